/**
 * Builds the dashboard into `dashboard/public/app/` (served by Workers static assets):
 * `main.js` (the page, with zod and uPlot bundled), `demo-shop.js` (the demo shop at /demo/)
 * and `styles.css` (uPlot's stylesheet and ours; shared chunks, if any, beside them). Prints raw and gzip sizes, so a change in page weight shows in every build log.
 *
 * Rollup, because it tree-shakes zod's namespace export (esbuild keeps all of zod, ~450 KB).
 * TypeScript only strips types here; `tsc -p dashboard` type-checks before this runs.
 */
import terser from "@rollup/plugin-terser";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type Plugin, rollup } from "rollup";
import ts from "typescript";

const root = fileURLToPath(new URL(".", import.meta.url));
const projectRoot = join(root, "..");
const outdir = join(root, "public/app");

/** A package's ES module entry (`module` field): uPlot's `main` is CommonJS. */
function packageEntry(name: string): string {
  const directory = join(projectRoot, "node_modules", name);
  const manifest: unknown = JSON.parse(readFileSync(join(directory, "package.json"), "utf8"));
  const module =
    typeof manifest === "object" && manifest !== null && "module" in manifest ? manifest.module : undefined;
  if (typeof module !== "string") throw new Error(`${name} has no ES module entry`);
  return join(directory, module);
}

/** Resolves the two bare packages the page uses and extension-less `.ts` imports, and strips types. */
function typescriptModules(): Plugin {
  return {
    name: "dashboard-typescript",
    resolveId(source, importer) {
      if (source === "zod" || source === "uplot") return packageEntry(source);
      if (importer !== undefined && source.startsWith(".") && importer.endsWith(".ts"))
        return join(dirname(importer), `${source}.ts`);
      return null;
    },
    transform(code, id) {
      if (!id.endsWith(".ts")) return null;
      const output = ts.transpileModule(code, {
        fileName: id,
        compilerOptions: {
          target: ts.ScriptTarget.ES2022,
          module: ts.ModuleKind.ESNext,
          verbatimModuleSyntax: true,
          sourceMap: true,
        },
      });
      return { code: output.outputText, map: output.sourceMapText ?? null };
    },
  };
}

// Chunk names carry hashes; start empty so no stale chunk is left to be served.
rmSync(outdir, { recursive: true, force: true });
const bundle = await rollup({
  input: { main: join(root, "src/main.ts"), "demo-shop": join(root, "src/demo-shop.ts") },
  plugins: [typescriptModules()],
  onwarn(warning, warn) {
    // zod's own comments and import cycles are not ours to fix.
    if (warning.id?.includes("node_modules") || warning.ids?.some((id) => id.includes("node_modules"))) return;
    warn(warning);
  },
});
const { output } = await bundle.write({
  dir: outdir,
  format: "es",
  entryFileNames: "[name].js",
  chunkFileNames: "[name]-[hash].js",
  sourcemap: true,
  plugins: [terser({ ecma: 2020, format: { comments: false } })],
});
await bundle.close();

mkdirSync(outdir, { recursive: true });
const styles = [
  readFileSync(join(projectRoot, "node_modules/uplot/dist/uPlot.min.css"), "utf8"),
  readFileSync(join(root, "src/styles.css"), "utf8"),
].join("\n");
writeFileSync(join(outdir, "styles.css"), styles);

const report = (name: string, bytes: Buffer | string) =>
  console.log(
    `dashboard ${name}: ${(Buffer.byteLength(bytes) / 1024).toFixed(1)} KiB, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KiB gzip`,
  );
for (const chunk of output) if (chunk.type === "chunk") report(chunk.fileName, chunk.code);
report("styles.css", styles);
