import { join } from 'node:path';

/**
 * How the services' Node processes are started: by the launcher (stack.ts), by the benchmarks
 * that measure a service as it runs in production, and — mirrored by hand — in docker/.
 */

/**
 * Node's compile cache, TypeScript included: from the second start on, a service neither strips
 * types again nor loads the stripper (a WebAssembly module of ~18 MB resident per process).
 */
export const nodeCompileCacheDir = join(import.meta.dirname, '..', '.cache', 'node-compile');

/**
 * The DICOM proxy's flags. Image bytes pass through blocks it reuses (dicom-proxy/src/pooled-bytes.ts);
 * what remains is a JavaScript heap of small objects that die young. A 2 MB semi-space keeps the
 * young generation, and what start-up leaves in it, small: with V8's default the proxy holds
 * ~25 MB more at rest and at its peak (150 MB budget, measured by `npm run bench:dicom`), at the
 * price of more frequent young-generation collections.
 */
export const dicomProxyNodeFlags = ['--max-semi-space-size=2'];
