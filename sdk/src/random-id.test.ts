import { describe, expect, it } from "vitest";
import { idSchema } from "../../protocol";
import { randomId } from "./random-id";

describe("randomId", () => {
  it("is a valid protocol id and differs on every call", () => {
    const ids = Array.from({ length: 1000 }, randomId);
    for (const id of ids) expect(idSchema.safeParse(id).success).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]).toMatch(/^\d+-\d+-\d+-\d+$/);
  });
});
