/**
 * A checkpoint after a burst can hold thousands of changed sessions and members, while Durable
 * Object SQLite on Cloudflare refuses a string or row over 2 MB (its documented limit; the local
 * workerd does not enforce it, so this checks the split itself): execJsonRows sends the rows in
 * arrays that fit.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { shardStub, uniqueSite } from "./shard-test-harness";
import { execJsonRows, MAX_JSON_ROWS_CHARS } from "./shard-state-store";

const INSERT = "INSERT INTO chunk_probe (id, state) SELECT value ->> 0, value ->> 1 FROM json_each(?)";

describe("checkpoint rows", () => {
  it("writes 3 MB of rows in statements whose parameter stays under the limit, every row once", async () => {
    const rows = Array.from({ length: 3000 }, (_, id) => [id, "s".repeat(1000)]);
    expect(JSON.stringify(rows).length).toBeGreaterThan(2 * 1024 * 1024);
    await runInDurableObject(shardStub(uniqueSite("chunks")), (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE chunk_probe (id INTEGER PRIMARY KEY, state TEXT NOT NULL)");
      const statements = execJsonRows(sql, INSERT, rows);
      expect(statements).toBeGreaterThanOrEqual(Math.ceil(JSON.stringify(rows).length / MAX_JSON_ROWS_CHARS));
      expect(
        sql
          .exec<{ n: number; total: number }>("SELECT count(*) AS n, sum(length(state)) AS total FROM chunk_probe")
          .one(),
      ).toEqual({
        n: 3000,
        total: 3000 * 1000,
      });
      expect(execJsonRows(sql, INSERT, [])).toBe(0);
    });
  });
});
