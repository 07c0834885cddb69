/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// Where `npm run dev` forwards API calls: a running `gantry serve` (default :8080).
const target = process.env.GANTRY_URL ?? 'http://127.0.0.1:8080';
const proxied = ['/api', '/healthz', '/readyz', '/metrics'];

export default defineConfig({
  // No @vitejs/plugin-react: esbuild's automatic JSX runtime is all we need.
  esbuild: { jsx: 'automatic' },
  server: {
    port: 5173,
    proxy: Object.fromEntries(proxied.map((p) => [p, { target, changeOrigin: false }])),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
