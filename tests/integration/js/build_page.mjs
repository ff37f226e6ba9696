// Builds the React test page (tests/integration/react) with Vite into <outDir>.
// Usage: node build_page.mjs <outDir>
import path from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { build } from "vite";

const here = path.dirname(fileURLToPath(import.meta.url));
const page = path.resolve(here, "..", "react");

// The page's source sits outside this package, so its bare imports (react, convex/react, ...)
// are resolved as if made from here, where node_modules is.
const fromThisPackage = {
  name: "resolve-from-js-peers",
  enforce: "pre",
  async resolveId(source, importer, options) {
    const bare = !source.startsWith(".") && !source.startsWith("/") && !source.startsWith("\0");
    if (!bare || importer === undefined || !importer.startsWith(page)) return null;
    return this.resolve(source, path.join(here, "package.json"), { ...options, skipSelf: true });
  },
};

await build({
  root: page,
  logLevel: "warn",
  configFile: false,
  plugins: [fromThisPackage, react()],
  build: { outDir: path.resolve(process.argv[2]), emptyOutDir: true, minify: false },
});
