/**
 * `npm run size`: prints the size of each SDK build, gzipped at level 9 (what `gzip -9`
 * produces, without the file name in the header), and fails when a script-tag build exceeds its
 * budget. The budgets are the product promise: every customer page loads ep.js.
 */
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGETS: Record<string, number> = {
  "ep.js": 1536,
  "ep.vitals.js": 1536,
  // A click listener and a pattern: an add-on this small must stay small.
  "ep.outbound.js": 1024,
};

const dist = new URL("dist/", import.meta.url);
const files = ["ep.js", "ep.vitals.js", "ep.outbound.js", "esm/index.js", "esm/vitals.js", "esm/outbound.js"];

const gzipSize = (bytes: Uint8Array): number => gzipSync(bytes, { level: 9 }).length;

let failed = false;
for (const file of files) {
  const bytes = readFileSync(new URL(file, dist));
  const gzip = gzipSize(bytes);
  const budget = BUDGETS[file];
  const verdict =
    budget === undefined
      ? "(npm build, unminified; no budget)"
      : gzip <= budget
        ? `ok, budget ${budget}`
        : `OVER BUDGET ${budget}`;
  if (budget !== undefined && gzip > budget) failed = true;
  console.log(
    `${file.padEnd(16)} ${String(bytes.length).padStart(6)} B  ${String(gzip).padStart(5)} B gzip -9  ${verdict}`,
  );
}
if (failed) process.exit(1);
