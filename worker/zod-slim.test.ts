/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { z as slim } from "./zod-slim";

// The Worker's sources, as text (Vite's glob import), to find every `z.<member>` they use.
const sources = import.meta.glob(
  ["../worker/**/*.ts", "../durable-objects/**/*.ts", "../protocol/**/*.ts", "../clickhouse/*.ts", "!**/*.test.ts"],
  {
    query: "?raw",
    import: "default",
    eager: true,
  },
) as Record<string, string>;

/** Type-only members (`z.infer<…>`, `z.input<…>`, `z.ZodType<…>` in annotations) need no runtime value. */
const TYPE_ONLY = new Set(["infer", "input", "output"]);

describe("zod-slim", () => {
  it("has every zod member the bundled code uses", () => {
    const used = new Set<string>();
    for (const text of Object.values(sources))
      for (const match of text.matchAll(/\bz\.([A-Za-z_]+)/g))
        if (match[1] !== undefined && !TYPE_ONLY.has(match[1])) used.add(match[1]);
    expect(used.size).toBeGreaterThan(5);
    const missing = [...used].filter((member) => !(member in slim));
    expect(missing).toEqual([]);
  });

  it("validates like zod, with English messages", () => {
    const schema = slim.object({ site: slim.string().regex(/^[a-z]+$/), n: slim.coerce.number().int().min(1) });
    expect(schema.parse({ site: "shop", n: "3" })).toEqual({ site: "shop", n: 3 });
    const result = schema.safeParse({ site: "Shop", n: 0 });
    expect(result.success).toBe(false);
    if (!result.success) expect(slim.prettifyError(result.error)).toContain("Too small");
  });
});
