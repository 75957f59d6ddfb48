import { createRequire } from 'node:module';

/**
 * node:http and node:https, loaded with require() rather than `import`. An ES import of a builtin
 * builds its namespace by reading every export, and node:http's lazy `WebSocket`, `CloseEvent`
 * and `MessageEvent` getters then load Node's bundled undici: ~13 MB resident (Node 24.21) in a
 * service that never uses it. require() leaves those getters alone. Types still come from
 * `import type`, which costs nothing at run time.
 */
const require = createRequire(import.meta.url);
export const http = require('node:http') as typeof import('node:http');
export const https = require('node:https') as typeof import('node:https');
