/**
 * The layers of the code and the only directions they may import in (ARCHITECTURE.md, Layers):
 * protocol ← tracing ← common ← clickhouse ← durable-objects ← worker. The Worker entry re-exports the
 * Durable Object classes, which is an edge downwards like any other. The SDK and the dashboard
 * share only the protocol. Tests may drive a layer from above (a Durable Object test through
 * the app), so test files and the fixtures and harnesses beside them are not held to this.
 * Packages (`node_modules`) are outside the layers.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

/** Layer → the layers its source may import (itself included). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: ["protocol"],
  common: ["common", "tracing", "protocol"],
  tracing: ["tracing", "protocol"],
  clickhouse: ["clickhouse", "common", "protocol"],
  "durable-objects": ["durable-objects", "clickhouse", "tracing", "common", "protocol"],
  worker: ["worker", "durable-objects", "clickhouse", "tracing", "common", "protocol"],
  sdk: ["sdk", "protocol"],
  dashboard: ["dashboard", "sdk", "protocol"],
};

/** Tests, and the fixtures, harnesses and clients only tests use. */
const TEST_CODE = /(\.test|-fixture|-harness|test-client)\.ts$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ts$/.test(entry.name) && !TEST_CODE.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .filter((file) => !file.split("/").some((part) => part === "node_modules" || part === "dist" || part === "test"));
}

/** The top-level folders a file imports from, by relative specifier. */
function importedLayers(file: string): { specifier: string; layer: string }[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((match) => match[1] ?? "");
  return specifiers.map((specifier) => ({
    specifier,
    layer: relative(ROOT, resolve(ROOT, dirname(file), specifier)).split("/")[0] ?? "",
  }));
}

describe("layers", () => {
  for (const [layer, allowed] of Object.entries(MAY_IMPORT)) {
    it(`${layer}/ imports only from ${allowed.join(", ")}`, () => {
      const files = sourceFiles(layer);
      expect(files.length).toBeGreaterThan(0);
      const wrong = files.flatMap((file) =>
        importedLayers(file)
          .filter(({ layer: imported }) => imported !== "node_modules" && !allowed.includes(imported))
          .map(({ specifier }) => `${file} imports ${specifier}`),
      );
      expect(wrong).toEqual([]);
    });
  }

  it("notices an import against the direction (the check itself works)", () => {
    const upward = importedLayers("common/crypto.ts").concat({ specifier: "../worker/app", layer: "worker" });
    expect(upward.filter(({ layer }) => !MAY_IMPORT.common?.includes(layer))).toHaveLength(1);
  });
});
