/**
 * The npm package as a consumer sees it (built by `npm run build:sdk`, which `npm test` runs
 * first): ES modules with no imports at all (zero runtime dependencies, zod not bundled),
 * and type declarations that compile on their own and still catch a wrong call.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const dist = (path: string) => fileURLToPath(new URL(`../dist/${path}`, import.meta.url));

let previous: ts.Program | undefined;

/** Type-checks `source` as an app importing @edgepulse/sdk from dist/, with no other types around. */
function typeCheck(source: string): string[] {
  const file = dist("consumer-check.ts");
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: [],
    paths: { "@edgepulse/sdk": [dist("esm/index.d.ts")], "@edgepulse/sdk/vitals": [dist("esm/vitals/index.d.ts")] },
  };
  const host = ts.createCompilerHost(options);
  const readSource = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version) =>
    name === file ? ts.createSourceFile(name, source, version) : readSource(name, version);
  const program = (previous = ts.createProgram([file], options, host, previous));
  const files = program.getSourceFiles().map((sourceFile) => sourceFile.fileName);
  expect(files.some((name) => /protocol|zod/.test(name))).toBe(false);
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}

describe("@edgepulse/sdk package", () => {
  it("has no runtime dependency: the ES modules import nothing", async () => {
    for (const file of [
      "esm/index.js",
      "esm/vitals.js",
      "esm/outbound.js",
      "ep.js",
      "ep.vitals.js",
      "ep.outbound.js",
    ]) {
      const code = await readFile(dist(file), "utf8");
      expect(code, file).not.toMatch(/^\s*import\s[^(]/m);
      expect(code, file).not.toMatch(/\bzod\b|ZodError|safeParse/);
    }
  });

  it("ships types that compile without protocol/ or zod and check the calls", () => {
    const app = `
      import { init, type Tracker } from "@edgepulse/sdk";
      import { vitals } from "@edgepulse/sdk/vitals";
      const tracker: Tracker = init({ site: "demo", endpoint: "https://collector.example", visitor: "v-1", persist: false });
      tracker.cart("add", { product_id: "sku-42", name: "Blue mug", price: 12.5, quantity: 2, currency: "EUR" });
      tracker.cart("checkout", { value: 25, currency: "EUR" });
      tracker.purchase({ order_id: "o-1", value: 25, currency: "EUR", items: [{ product_id: "sku-42", price: 12.5 }] });
      tracker.track("signup", { plan: "free", seats: 3, annual: true });
      tracker.push(["pageView", "/p/1"]);
      vitals(tracker);
      const dropped: number = tracker.dropped;
    `;
    expect(typeCheck(app)).toEqual([]);
    const wrong = typeCheck(`
      import { init } from "@edgepulse/sdk";
      const tracker = init({ site: "demo" });
      tracker.cart("buy", { product_id: "sku-42" });
      tracker.purchase({ order_id: "o-1", value: "25", currency: "EUR" });
      tracker.track("signup", { plan: { nested: true } });
    `);
    expect(wrong).toHaveLength(3);
  });
});
