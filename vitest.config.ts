import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{contract,domain,sfu,signaling,dicom-proxy,stack,docker}/**/*.test.ts', 'web/src/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          // Each file drives several real browsers; running them one at a time keeps the
          // two-core CI machine from starving the media pipelines.
          fileParallelism: false,
        },
      },
    ],
  },
});
