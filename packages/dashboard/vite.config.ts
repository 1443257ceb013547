import { defineConfig } from 'vite';

// Served by the reference server under /dashboard/ (packages/server-express/src/dashboard.ts), so every
// asset URL is built with that base. No inline scripts or styles: the server's CSP allows 'self' only.
export default defineConfig({
  base: '/dashboard/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Never inline assets as data: URLs; everything is a file the CSP's 'self' covers.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
});
