import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The console is served by the master; `npm run dev` proxies the API to a master on :3000.
const master = process.env.ONE_API_URL || 'http://localhost:3000';

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: { proxy: { '/api': master, '/v1': master } },
});
