import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The web console: built into dist/console and served by the admin listener (src/admin/console.ts).
// Everything is bundled: no CDN at run time.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npx vite --config console/vite.config.ts` for development: the API from a running server.
    proxy: { '/v1': 'http://127.0.0.1:9001', '/metrics': 'http://127.0.0.1:9001' },
  },
});
