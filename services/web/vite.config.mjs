// Builds the browser app from src/client into dist/public (served by src/plugins/static-app.ts).
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('./src/client', import.meta.url)),
  base: '/',
  // The contracts package exports TypeScript sources under the "source" condition.
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  build: {
    outDir: fileURLToPath(new URL('./dist/public', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // No inline data: URLs for scripts; the CSP forbids inline code anyway.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    manifest: true,
  },
  server: {
    proxy: {
      '/api': process.env.AUTH_URL ?? 'http://127.0.0.1:8081',
      '/.well-known': process.env.AUTH_URL ?? 'http://127.0.0.1:8081',
      '/oidc': process.env.AUTH_URL ?? 'http://127.0.0.1:8081',
      '/socket.io': { target: process.env.AUTH_URL ?? 'http://127.0.0.1:8081', ws: true },
    },
  },
});
