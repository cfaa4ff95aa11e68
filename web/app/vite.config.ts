/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import type { OutputBundle, OutputChunk } from "rollup";

// The API the dev server proxies to (make run serves it on 8080).
const api = process.env.TANDEM_API ?? "http://127.0.0.1:8080";

// preloadApp adds <link rel="modulepreload"> to index.html for the app
// (src/app.tsx) and the files it imports. The entry (src/main.tsx) only
// starts the session and then imports the app; without these links the
// browser would learn of the app's files only once the entry has run.
function preloadApp(): Plugin {
  const appEntry = "/src/app.tsx";
  return {
    name: "tandem-preload-app",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(_html, ctx) {
        const bundle: OutputBundle | undefined = ctx.bundle;
        if (!bundle) return [];
        const chunks = Object.values(bundle).filter((c): c is OutputChunk => c.type === "chunk");
        const app = chunks.find((c) => c.moduleIds.some((id) => id.endsWith(appEntry)));
        if (!app) throw new Error(`preloadApp: no chunk holds ${appEntry}`);
        const files = new Set<string>();
        const visit = (fileName: string) => {
          if (files.has(fileName)) return;
          files.add(fileName);
          const chunk = bundle[fileName];
          if (chunk?.type === "chunk") chunk.imports.forEach(visit);
        };
        visit(app.fileName);
        // The entry's own imports are already in the page as its script.
        const entry = chunks.find((c) => c.isEntry);
        for (const f of entry ? [entry.fileName, ...entry.imports] : []) files.delete(f);
        return [...files].map((f) => ({ tag: "link", attrs: { rel: "modulepreload", crossorigin: true, href: `/${f}` }, injectTo: "head" as const }));
      },
    },
  };
}

// vendorChunk keeps the libraries in files of their own, which stay
// cached across releases of the app's code.
function vendorChunk(id: string): string | undefined {
  if (/\/node_modules\/(react|react-dom|scheduler)\//.test(id)) return "react";
  if (id.includes("/node_modules/react-router/")) return "router";
  if (id.includes("/node_modules/@tanstack/")) return "query";
  return undefined;
}

export default defineConfig({
  plugins: [react(), preloadApp()],
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // The portal route stays small; the coach workspace and therapist view
    // are split into chunks of their own (React.lazy in src/routes.tsx).
    chunkSizeWarningLimit: 400,
    rollupOptions: { output: { manualChunks: vendorChunk } },
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      // The cookie operations check Origin: present the API's own.
      "/api": {
        target: api,
        changeOrigin: true,
        configure: (proxy) => {
          proxy.on("proxyReq", (req) => {
            if (req.getHeader("origin")) req.setHeader("origin", api);
          });
        },
      },
      "/dev/mailbox": { target: api, changeOrigin: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
