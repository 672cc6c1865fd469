import { describe, expect, it } from "vitest";
import { QuerySlots } from "./query-slots";
import { ServerException } from "./server-exception";

describe("QuerySlots", () => {
  it("lets a write pass read-only queries held back by their share", async () => {
    const slots = new QuerySlots({ capacity: 3, readOnlyCapacity: 2, maxPending: 10 });
    const readA = await slots.acquire(true);
    await slots.acquire(true);
    const granted: string[] = [];
    const readC = slots.acquire(true).then((release) => {
      granted.push("readC");
      return release;
    });
    const write = slots.acquire(false).then((release) => {
      granted.push("write");
      return release;
    });
    await write;
    expect(granted).toEqual(["write"]);
    readA();
    await readC;
    expect(granted).toEqual(["write", "readC"]);
  });

  it("refuses beyond maxPending and drops a waiter whose client went away", async () => {
    const slots = new QuerySlots({ capacity: 1, readOnlyCapacity: 1, maxPending: 2 });
    const first = await slots.acquire(false);
    const abandoned = new AbortController();
    const waiting = slots.acquire(false, abandoned.signal);
    await expect(slots.acquire(false)).rejects.toMatchObject({ code: 202 });
    abandoned.abort();
    await expect(waiting).rejects.toBeInstanceOf(ServerException);
    expect(slots.pending).toBe(1);
    first();
    first();
    expect(slots.pending).toBe(0);
  });
});
