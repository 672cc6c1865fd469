/** Benchmark 6: the SDK builds' sizes, raw and gzip -9 (what the size budget counts). */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PROJECT_ROOT } from "../tools/wrangler-dev";

export interface SdkSize {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export const SDK_BUILDS = ["sdk/dist/ep.js", "sdk/dist/ep.vitals.js"] as const;

/** Sizes of the builds that exist (run `npm run build:sdk` first); missing ones are listed apart. */
export function measureSdkSizes(root = PROJECT_ROOT): { sizes: SdkSize[]; missing: string[] } {
  const sizes: SdkSize[] = [];
  const missing: string[] = [];
  for (const file of SDK_BUILDS) {
    const path = join(root, file);
    if (!existsSync(path)) {
      missing.push(file);
      continue;
    }
    const content = readFileSync(path);
    sizes.push({ file, bytes: content.byteLength, gzipBytes: gzipSync(content, { level: 9 }).byteLength });
  }
  return { sizes, missing };
}
