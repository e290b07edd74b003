import { fileURLToPath } from "node:url";

import { defineConfig } from "vite";

/**
 * The dashboard: a static app (no server of its own: it talks to a node, a wallet and optionally
 * the indexer's API from the browser). Preact's JSX through Vite's own transform (no plugin);
 * the SDK, the views and the audit's rule model are imported from ../src as sources.
 */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  publicDir: false,
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1500,
  },
  server: { host: "127.0.0.1" },
  preview: { host: "127.0.0.1" },
});
