import adapter from '@sveltejs/adapter-node';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  resolve: {
    alias: {
      // vtk.js (under Cornerstone) imports xmlbuilder2, whose package entry is Node-only; its
      // browser bundle is the same API.
      xmlbuilder2: 'xmlbuilder2/lib/xmlbuilder2.min.js',
    },
  },
  optimizeDeps: {
    // In dev the image decoder worker hangs without these pre-bundled (production is unaffected).
    include: [
      '@cornerstonejs/codec-charls/decodewasmjs',
      '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
      '@cornerstonejs/codec-openjpeg/decodewasmjs',
      '@cornerstonejs/codec-openjph/wasmjs',
    ],
  },
  server: {
    // The same-origin image route web/server.ts provides in production.
    proxy: { '/dicom-web': process.env.DICOM_PROXY_URL ?? 'http://127.0.0.1:3003' },
  },
  plugins: [
    sveltekit({
      adapter: adapter({ out: 'build' }),
      csp: {
        mode: 'auto',
        directives: {
          'default-src': ['self'],
          'script-src': ['self'],
          'style-src': ['self', 'unsafe-inline'],
          'img-src': ['self', 'data:', 'blob:'],
          'media-src': ['self', 'blob:', 'mediastream:'],
          // Narrowed to the signaling origin by a second policy header (hooks.server.ts).
          'connect-src': ['self', 'http:', 'https:', 'ws:', 'wss:'],
          'worker-src': ['self', 'blob:'],
          'object-src': ['none'],
          'base-uri': ['self'],
          'form-action': ['self'],
          'frame-ancestors': ['none'],
        },
      },
    }),
  ],
});
