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
 * The DICOM proxy's flags. Its memory is mostly image buffers that die young; a 2 MB semi-space
 * makes the young-generation collections that free them frequent, so peak RSS stays under its
 * 150 MB budget (measured by `npm run bench:dicom`) for a few percent more CPU.
 */
export const dicomProxyNodeFlags = ['--max-semi-space-size=2'];
