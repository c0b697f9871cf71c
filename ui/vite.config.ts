import { defineConfig } from "vitest/config";

// The built files are what the Tauri shell serves: relative paths, no inline scripts (the
// content security policy allows only the app's own files), nothing fetched from a network.
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  test: {
    environment: "jsdom",
    globals: true,
  },
});
