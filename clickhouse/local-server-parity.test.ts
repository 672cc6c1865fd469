/**
 * The local server behaving as clickhouse-server does where a client's own test suite
 * (clickhouse-js) found it did not (issue 13, section 3): binary INSERT bodies, streamed
 * results and mid-stream errors, implicit_select off, compressed bodies, multipart
 * parameters, HTTP sessions and empty INSERTs. Plain fetch, so the HTTP details are visible.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync, deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalClickHouse, startLocalClickHouse } from "./local-server";

const MAX_BODY_BYTES = 256 * 1024;

let dataDir: string;
let server: LocalClickHouse;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "edgepulse-local-parity-"));
  server = await startLocalClickHouse({ port: 0, dataDir, maxBodyBytes: MAX_BODY_BYTES });
  await post("CREATE DATABASE parity");
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function url(params: Record<string, string> = {}): string {
  return `${server.url}/?${new URLSearchParams(params)}`;
}

async function post(
  body: BodyInit,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url(params), { method: "POST", body, headers });
}

async function text(sql: string, params: Record<string, string> = {}): Promise<string> {
  const response = await post(sql, params);
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${response.status}: ${body}`);
  return body;
}

function uint32LittleEndian(...values: number[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(4 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((value, index) => {
    view.setUint32(index * 4, value, true);
  });
  return bytes;
}

describe("binary INSERT bodies", () => {
  it("stores RowBinary rows exactly, with the statement in the URL or before the data in the body", async () => {
    await text("CREATE TABLE parity.binary (x UInt32) ENGINE = MergeTree ORDER BY tuple()");
    // 128 and 255 are the bytes that UTF-8 decoding used to turn into three wrong rows.
    const viaUrl = await post(uint32LittleEndian(128, 255), { query: "INSERT INTO parity.binary FORMAT RowBinary" });
    expect(viaUrl.status).toBe(200);
    expect(await text("SELECT x FROM parity.binary ORDER BY x")).toBe("128\n255\n");

    const inline = Buffer.concat([
      Buffer.from("INSERT INTO parity.binary (x) FORMAT RowBinary\n"),
      uint32LittleEndian(0, 4_294_967_295),
    ]);
    expect((await post(new Uint8Array(inline))).status).toBe(200);
    expect(await text("SELECT x FROM parity.binary ORDER BY x")).toBe("0\n128\n255\n4294967295\n");
  });

  it("round-trips Parquet written by the engine itself", async () => {
    const parquet = await post("SELECT number AS x FROM numbers(5) FORMAT Parquet");
    expect(parquet.status).toBe(200);
    await text("CREATE TABLE parity.from_parquet (x UInt64) ENGINE = MergeTree ORDER BY x");
    const insert = await post(new Uint8Array(await parquet.arrayBuffer()), {
      query: "INSERT INTO parity.from_parquet FORMAT Parquet",
    });
    expect(insert.status).toBe(200);
    expect(await text("SELECT sum(x), count() FROM parity.from_parquet")).toBe("10\t5\n");
  });

  it("refuses binary bytes it cannot route instead of storing them wrong", async () => {
    await text("CREATE TABLE parity.refused (x UInt32) ENGINE = Memory");
    const response = await post(uint32LittleEndian(128, 255), {
      query: "INSERT INTO parity.refused SELECT * FROM input('x UInt32') FORMAT RowBinary",
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.headers.get("x-clickhouse-exception-code")).not.toBeNull();
    expect(await text("SELECT count() FROM parity.refused")).toBe("0\n");
  });
});

describe("empty INSERT bodies", () => {
  it("accepts an INSERT without data as zero rows, and still checks the table", async () => {
    await text("CREATE TABLE parity.empty (x UInt32) ENGINE = MergeTree ORDER BY x");
    const empty = await fetch(url({ query: "INSERT INTO parity.empty FORMAT JSONEachRow" }), { method: "POST" });
    expect(empty.status).toBe(200);
    expect(JSON.parse(empty.headers.get("x-clickhouse-summary") ?? "{}")).toMatchObject({ written_rows: "0" });
    expect(await text("SELECT count() FROM parity.empty")).toBe("0\n");
    const missing = await fetch(url({ query: "INSERT INTO parity.no_such_table FORMAT JSONEachRow" }), {
      method: "POST",
    });
    expect(missing.status).toBe(404);
    expect((await missing.text()).match(/Code: 60\./g)).toHaveLength(1);
  });
});

describe("implicit_select", () => {
  it("is off, as on clickhouse-server: a bare expression is a syntax error", async () => {
    for (const sql of ["1+1", "foobar FORMAT JSON"]) {
      const response = await post(sql);
      expect(response.status).toBe(400);
      expect(response.headers.get("x-clickhouse-exception-code")).toBe("62");
    }
  });

  it("places a syntax error in the query as the client sent it", async () => {
    // "FORM" reads as an alias; the parser stops at "numbers": character 30, line 2, column 15.
    // The engine runs it behind a tag line of its own (chdb-engine.ts); readonly=1 as the console's checks.
    const response = await post("SELECT number,\n  number FORM numbers(3)", { readonly: "1" });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/failed at position 30 \(numbers\) \(line 2, col 15\)/);
  });
});

describe("results of several blocks", () => {
  // max_block_size=100 makes 1,000 rows ten blocks, the way a large result arrives.
  const blocks = { max_block_size: "100" };

  it("are one JSON document, with totals, statistics and rows_before_limit_at_least as a server writes them", async () => {
    const numbers = JSON.parse(await text("SELECT number FROM numbers(1000) LIMIT 999 FORMAT JSON", blocks));
    expect(numbers.rows).toBe(999);
    expect(numbers.data).toHaveLength(999);
    expect(numbers.rows_before_limit_at_least).toBeGreaterThanOrEqual(999);
    expect(numbers.statistics.rows_read).toBeGreaterThanOrEqual(999);

    const totals = JSON.parse(
      await text(
        "SELECT number % 3 AS k, count() AS c FROM numbers(1000) GROUP BY k WITH TOTALS ORDER BY k FORMAT JSONCompact",
        blocks,
      ),
    );
    expect(totals.data).toEqual([
      [0, 334],
      [1, 333],
      [2, 333],
    ]);
    expect(totals.totals).toEqual([0, 1000]);
  });

  it("carry one header and one file, not one per block", async () => {
    const tsv = await text("SELECT number FROM numbers(1000) FORMAT TSVWithNames", blocks);
    expect(tsv.split("\n").filter((line) => line === "number")).toHaveLength(1);
    expect(tsv.split("\n")).toHaveLength(1002);

    const parquet = Buffer.from(
      await (await post("SELECT number FROM numbers(1000) FORMAT Parquet", blocks)).arrayBuffer(),
    );
    const magic = (from: number) => parquet.indexOf("PAR1", from);
    expect([magic(0), magic(4), magic(magic(4) + 4)]).toEqual([0, parquet.byteLength - 4, -1]);
    const rows = await text(
      `SELECT count(), sum(number) FROM format(Parquet, 'number UInt64', unhex('${parquet.toString("hex")}'))`,
    );
    expect(rows).toBe("1000\t499500\n");
  });
});

describe("streamed results", () => {
  it("sends the first rows of a result that never ends, and stops when the client goes away", async () => {
    const abort = new AbortController();
    const response = await fetch(url(), {
      method: "POST",
      body: "SELECT number FROM system.numbers",
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value).startsWith("0\n1\n2\n")).toBe(true);
    abort.abort();
    await reader?.cancel().catch(() => undefined);
    // The server is free for the next query.
    expect(await text("SELECT 'after'")).toBe("after\n");
  });

  it("kills a read-only query that computes without yielding rows when its client goes away", async () => {
    // An aggregate sends nothing until it is done, so there is no chunk to stop between: the
    // server must find the query in the engine and kill it, as cancel_http_readonly_queries_on_client_close does.
    const marker = `abandoned_${Date.now()}`;
    const sql = `SELECT count() AS ${marker} FROM numbers(3000) AS a CROSS JOIN numbers(3000) AS b CROSS JOIN numbers(3000) AS c WHERE cityHash64(a.number, b.number, c.number) % 7 = 1`;
    const running = async () =>
      Number(
        await text(
          `SELECT count() FROM system.processes WHERE position(query, '${marker}') > 0 AND position(query, 'system.processes') = 0 FORMAT TSV`,
        ),
      );
    const controller = new AbortController();
    const request = fetch(url({ readonly: "1" }), { method: "POST", body: sql, signal: controller.signal }).catch(
      () => null,
    );
    for (let attempt = 0; attempt < 100 && (await running()) === 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await running()).toBe(1);
    controller.abort();
    await request;
    // The query would run for minutes; gone within a few polls once killed.
    for (let attempt = 0; attempt < 100 && (await running()) > 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await running()).toBe(0);
  });

  it("ends a query whose client left before its first row, instead of holding it and its slot forever", async () => {
    // clickhouse-js's abort tests: `SELECT sleep(3)` aborted after 50 ms. A write query is not
    // killed (as on a server), it finishes its block; writing that block to the closed socket
    // must then end it, not wait for a drain that never comes.
    const marker = `left_early_${Date.now()}`;
    const running = async () =>
      Number(
        await text(
          `SELECT count() FROM system.processes WHERE position(query, '${marker}') > 0 AND position(query, 'system.processes') = 0 FORMAT TSV`,
        ),
      );
    const controller = new AbortController();
    const request = fetch(url(), {
      method: "POST",
      body: `SELECT sleep(0.5), '${marker}' FORMAT CSV`,
      signal: controller.signal,
    }).catch(() => null);
    for (let attempt = 0; attempt < 100 && (await running()) === 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await request;
    for (let attempt = 0; attempt < 60 && (await running()) > 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await running()).toBe(0);
  });

  it("ends a body whose query fails midway with the tagged exception block clients look for", async () => {
    const response = await post(
      "SELECT number, throwIf(number = 5, 'boom') FROM numbers(10) SETTINGS max_block_size = 1",
      { default_format: "JSONEachRow" },
    );
    expect(response.status).toBe(200);
    const tag = response.headers.get("x-clickhouse-exception-tag");
    expect(tag).toMatch(/^[0-9a-f]+$/);
    const body = await response.text();
    expect(body).toMatch(/^\{"number":"?0"?,/);
    expect(body.endsWith(` ${tag}\r\n__exception__\r\n`)).toBe(true);
    expect(body).toContain(`\r\n__exception__\r\n${tag}\nCode: 395. DB::Exception: boom`);
  });

  it("holds the whole result back with wait_end_of_query=1, so a late failure is an error status", async () => {
    const response = await post(
      "SELECT number, throwIf(number = 5, 'boom') FROM numbers(10) SETTINGS max_block_size = 1",
      { wait_end_of_query: "1" },
    );
    expect(response.status).toBe(500);
    expect(response.headers.get("x-clickhouse-exception-code")).toBe("395");
  });

  it("applies a default per-query memory limit that a query may raise", async () => {
    expect(await text("SELECT getSetting('max_memory_usage')")).toBe(`${2 * 1024 * 1024 * 1024}\n`);
    expect(await text("SELECT getSetting('max_memory_usage')", { max_memory_usage: "1000000000" })).toBe(
      "1000000000\n",
    );
  });
});

describe("JSONEachRowWithProgress", () => {
  type Line = Record<string, unknown>;
  const lines = (body: string): Line[] =>
    body
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as Line);
  const kinds = (parsed: Line[]) => parsed.map((line) => Object.keys(line)[0]);
  const readRows = (parsed: Line[]) =>
    parsed.flatMap((line) => ("progress" in line ? [(line.progress as { read_rows: string }).read_rows] : []));

  it("opens a fast aggregate with its progress, then meta, rows, totals, extremes and statistics", async () => {
    // clickhouse-js's "works with special events": the engine wrote the progress after the extremes.
    const parsed = lines(
      await text(
        "SELECT (123 + number * 456) % 100 AS k, count() AS c, sum(number) AS s FROM numbers(100) GROUP BY ALL WITH TOTALS ORDER BY ALL LIMIT 10",
        { default_format: "JSONEachRowWithProgress", rows_before_aggregation: "1", extremes: "1" },
      ),
    );
    expect(kinds(parsed)).toEqual([
      "progress",
      "meta",
      ...Array<string>(10).fill("row"),
      "totals",
      "min",
      "max",
      "rows_before_limit_at_least",
      "rows_before_aggregation",
    ]);
    expect(parsed[0]).toEqual({
      progress: {
        read_rows: "100",
        read_bytes: "800",
        total_rows_to_read: "100",
        elapsed_ns: expect.stringMatching(/^\d+$/),
      },
    });
  });

  it("interleaves progress with the rows of a slow scan, and names its columns once", async () => {
    const slow = lines(
      await text("SELECT sleep(0.1) AS foo FROM numbers(2)", {
        default_format: "JSONEachRowWithProgress",
        max_block_size: "1",
      }),
    );
    expect(kinds(slow)).toEqual(["progress", "meta", "row", "progress", "row"]);
    expect(readRows(slow)).toEqual(["1", "2"]);

    const many = lines(
      await text("SELECT number FROM numbers(1000)", {
        default_format: "JSONEachRowWithProgress",
        max_block_size: "100",
      }),
    );
    expect(kinds(many).filter((kind) => kind === "meta")).toHaveLength(1);
    expect(many.filter((line) => "row" in line).map((line) => (line.row as { number: number }).number)).toEqual(
      Array.from({ length: 1000 }, (_, index) => index),
    );
    // Progress only grows. (Its last value may fall short of 1,000 here: the engine reports a
    // fast scan's later blocks late or not at all; see progress-rows.ts.)
    const progress = readRows(many).map(Number);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    // One block: the engine's stream reports no progress at all for it; a server opens with it.
    const single = lines(await text("SELECT number FROM numbers(3)", { default_format: "JSONEachRowWithProgress" }));
    expect(kinds(single)).toEqual(["progress", "meta", "row", "row", "row"]);
    expect(readRows(single)).toEqual(["3"]);
  });

  it("streams, so a failure after the first rows is the tagged exception block, not a 500", async () => {
    // clickhouse-js's "works with exceptions" reads the rows, then gets code 395 from the stream.
    const response = await post(
      "SELECT toInt32(number) AS n, throwIf(number = 10, 'boom') AS e FROM system.numbers LIMIT 100 SETTINGS max_block_size = 1",
      { default_format: "JSONEachRowWithProgress" },
    );
    expect(response.status).toBe(200);
    const tag = response.headers.get("x-clickhouse-exception-tag");
    const body = await response.text();
    expect(body.startsWith('{"meta":') || body.startsWith('{"progress":')).toBe(true);
    expect(body).toContain('{"row":{"n":0,"e":0}}');
    expect(body).toContain(`\r\n__exception__\r\n${tag}\nCode: 395. DB::Exception: boom`);
  });

  it("answers with interactive_delay=0, which spins the embedded engine forever", async () => {
    const response = await fetch(url({ interactive_delay: "0" }), {
      method: "POST",
      body: "SELECT 1",
      signal: AbortSignal.timeout(20_000),
    });
    expect(await response.text()).toBe("1\n");
  });
});

describe("compression", () => {
  it("accepts gzip and deflate request bodies", async () => {
    expect(
      await (await post(new Uint8Array(gzipSync("SELECT 'gzip'")), {}, { "Content-Encoding": "gzip" })).text(),
    ).toBe("gzip\n");
    expect(
      await (await post(new Uint8Array(deflateSync("SELECT 'deflate'")), {}, { "Content-Encoding": "deflate" })).text(),
    ).toBe("deflate\n");
    await text("CREATE TABLE parity.gzipped (x UInt32) ENGINE = MergeTree ORDER BY x");
    const rows = gzipSync('{"x":1}\n{"x":2}\n');
    expect(
      (
        await post(
          new Uint8Array(rows),
          { query: "INSERT INTO parity.gzipped FORMAT JSONEachRow" },
          { "Content-Encoding": "gzip" },
        )
      ).status,
    ).toBe(200);
    expect(await text("SELECT sum(x) FROM parity.gzipped")).toBe("3\n");
  });

  it("bounds the body after decompression, and says so when it is not what it claims", async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_BODY_BYTES * 4, 0x20));
    expect(bomb.byteLength).toBeLessThan(MAX_BODY_BYTES);
    const tooLarge = await post(new Uint8Array(bomb), {}, { "Content-Encoding": "gzip" });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("x-clickhouse-exception-code")).toBe("229");
    const notGzip = await post("SELECT 1", {}, { "Content-Encoding": "gzip" });
    expect(notGzip.status).toBe(400);
    expect(notGzip.headers.get("x-clickhouse-exception-code")).toBe("271");
    const unknown = await post("SELECT 1", {}, { "Content-Encoding": "snappy" });
    expect(unknown.status).toBe(415);
  });

  it("compresses the response with enable_http_compression=1 and Accept-Encoding: gzip", async () => {
    const { request } = await import("node:http");
    // fetch would decompress on its own; a raw request shows the bytes on the wire.
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolveRaw, rejectRaw) => {
      const outgoing = request(
        url({ enable_http_compression: "1" }),
        { method: "POST", headers: { "Accept-Encoding": "gzip" } },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("end", () =>
            resolveRaw({ encoding: incoming.headers["content-encoding"], body: Buffer.concat(chunks) }),
          );
        },
      );
      outgoing.on("error", rejectRaw);
      outgoing.end("SELECT number FROM numbers(3)");
    });
    expect(raw.encoding).toBe("gzip");
    expect(gunzipSync(raw.body).toString()).toBe("0\n1\n2\n");
    // Without the setting the answer stays plain, as on clickhouse-server.
    const plain = await post("SELECT 1", {}, { "Accept-Encoding": "gzip" });
    expect(plain.headers.get("content-encoding")).toBeNull();
  });

  it("compresses an error body too, as clickhouse-server does for a client that asked for compression", async () => {
    const { request } = await import("node:http");
    const raw = await new Promise<{ status: number; encoding: string | undefined; code: unknown; body: Buffer }>(
      (resolveRaw, rejectRaw) => {
        const outgoing = request(
          url({ enable_http_compression: "1" }),
          { method: "POST", headers: { "Accept-Encoding": "gzip" } },
          (incoming) => {
            const chunks: Buffer[] = [];
            incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
            incoming.on("end", () =>
              resolveRaw({
                status: incoming.statusCode ?? 0,
                encoding: incoming.headers["content-encoding"],
                code: incoming.headers["x-clickhouse-exception-code"],
                body: Buffer.concat(chunks),
              }),
            );
          },
        );
        outgoing.on("error", rejectRaw);
        outgoing.end("invalid");
      },
    );
    expect(raw).toMatchObject({ status: 400, encoding: "gzip", code: "62" });
    expect(gunzipSync(raw.body).toString()).toMatch(/^Code: 62\. DB::Exception: Syntax error/);
  });
});

describe("multipart/form-data parameters", () => {
  it("takes the query and param_* from form fields, as clickhouse-js sends long parameters", async () => {
    const form = new FormData();
    form.set("query", "SELECT {values:Array(String)} AS v, {n:UInt8} + 1 AS n FORMAT JSONEachRow");
    form.set("param_values", "['a@b.com','it\\'s']");
    form.set("param_n", "41");
    const response = await fetch(url(), { method: "POST", body: form });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ v: ["a@b.com", "it's"], n: 42 });
  });
});

describe("HTTP sessions", () => {
  it("keeps SET and temporary tables for requests with the same session_id, and only for them", async () => {
    const session = { session_id: `parity-${Date.now()}` };
    await text("CREATE TEMPORARY TABLE scratch (x UInt8)", session);
    await text("INSERT INTO scratch VALUES (7)", session);
    await text("SET max_result_rows = 123", session);
    expect(await text("SELECT x, getSetting('max_result_rows') FROM scratch", session)).toBe("7\t123\n");
    // A URL setting still applies to one query only, inside a session too.
    expect(await text("SELECT getSetting('max_result_rows')", { ...session, max_result_rows: "5" })).toBe("5\n");
    expect(await text("SELECT getSetting('max_result_rows')", session)).toBe("123\n");
    const outside = await post("SELECT x FROM scratch");
    expect(outside.status).toBe(404);
    expect(await text("SELECT getSetting('max_result_rows')")).toBe("0\n");
  });

  it("answers session_check for an unknown session, refuses a bad timeout and ends on close_session", async () => {
    const unknown = await post("SELECT 1", { session_id: "never-opened", session_check: "1" });
    expect(unknown.headers.get("x-clickhouse-exception-code")).toBe("372");
    const badTimeout = await post("SELECT 1", { session_id: "timeout", session_timeout: "86400" });
    expect(badTimeout.status).toBe(400);
    expect(badTimeout.headers.get("x-clickhouse-exception-code")).toBe("374");
    await text("SET max_result_rows = 9", { session_id: "closing" });
    expect(await text("SELECT getSetting('max_result_rows')", { session_id: "closing", close_session: "1" })).toBe(
      "9\n",
    );
    const closed = await post("SELECT 1", { session_id: "closing", session_check: "1" });
    expect(closed.headers.get("x-clickhouse-exception-code")).toBe("372");
  });

  it("refuses a second concurrent request in one session with SESSION_IS_LOCKED", async () => {
    const session = { session_id: "locked" };
    const slow = post("SELECT sleep(1)", session);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    const second = await post("SELECT 1", session);
    expect(second.headers.get("x-clickhouse-exception-code")).toBe("373");
    expect((await slow).status).toBe(200);
  });
});
