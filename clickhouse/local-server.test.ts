/**
 * The local ClickHouse server driven the way the Worker drives it (`@clickhouse/client-web`)
 * and by plain fetch where the HTTP details are the point: statuses, headers, bodies.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClickHouseError, createClient, type ClickHouseClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalClickHouse, startLocalClickHouse } from "./local-server";

const MAX_BODY_BYTES = 256 * 1024;

let dataDir: string;
let server: LocalClickHouse;
let client: ClickHouseClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "edgepulse-local-server-"));
  server = await startLocalClickHouse({ port: 0, dataDir, maxBodyBytes: MAX_BODY_BYTES });
  const admin = createClient({ url: server.url });
  await admin.command({ query: "CREATE DATABASE IF NOT EXISTS test" });
  await admin.command({
    query: `CREATE TABLE test.items (id UInt32, name String, price Decimal(18, 4))
            ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`,
  });
  await admin.close();
  client = createClient({ url: server.url, database: "test" });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** fetch against the server with the SQL in the URL, as curl users do. */
function get(params: Record<string, string>, init?: RequestInit): Promise<Response> {
  return fetch(`${server.url}/?${new URLSearchParams(params)}`, init);
}

async function rejection(promise: Promise<unknown>): Promise<ClickHouseError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ClickHouseError)) throw new Error(`expected a ClickHouseError, got ${String(error)}`);
  return error;
}

async function count(table: string, where = "1"): Promise<number> {
  const result = await client.query({
    query: `SELECT count() AS n FROM ${table} WHERE ${where}`,
    format: "JSONEachRow",
  });
  const rows = await result.json<{ n: number }>();
  return Number(rows[0]?.n);
}

describe("ping and plain queries", () => {
  it("answers /ping and GET / with Ok.", async () => {
    const ping = await fetch(`${server.url}/ping`);
    expect(ping.status).toBe(200);
    expect(await ping.text()).toBe("Ok.\n");
    expect(await (await fetch(`${server.url}/`)).text()).toBe("Ok.\n");
    expect((await client.ping()).success).toBe(true);
  });

  it("runs GET ?query= and POST bodies, echoing the query id", async () => {
    const viaGet = await get({ query: "SELECT 1 + 1", query_id: "q-42" });
    expect(viaGet.status).toBe(200);
    expect(viaGet.headers.get("x-clickhouse-query-id")).toBe("q-42");
    expect(await viaGet.text()).toBe("2\n");
    const viaPost = await fetch(`${server.url}/`, {
      method: "POST",
      body: "SELECT 'a' AS x, 2 AS y FORMAT JSONEachRow",
    });
    expect(await viaPost.text()).toBe('{"x":"a","y":2}\n');
  });

  it("honours FORMAT in the query text and default_format, naming it in X-ClickHouse-Format", async () => {
    const cases: Array<[string, Record<string, string>, string, RegExp]> = [
      ["CSVWithNames", { query: "SELECT 1 AS a, 'x' AS b FORMAT CSVWithNames" }, '"a","b"\n1,"x"\n', /text\/csv/],
      ["TabSeparated", { query: "SELECT 1 AS a, 'x' AS b FORMAT TabSeparated" }, "1\tx\n", /tab-separated/],
      ["JSONCompactEachRow", { query: "SELECT 1 AS a", default_format: "JSONCompactEachRow" }, "[1]\n", /ndjson/],
    ];
    for (const [format, params, body, type] of cases) {
      const response = await get(params);
      expect(response.headers.get("x-clickhouse-format")).toBe(format);
      expect(response.headers.get("content-type")).toMatch(type);
      expect(await response.text()).toBe(body);
    }
    const json = (await (await get({ query: "SELECT 7 AS n FORMAT JSON" })).json()) as {
      data: Array<{ n: number }>;
      rows: number;
    };
    expect(json.data).toEqual([{ n: 7 }]);
    expect(json.rows).toBe(1);
  });

  it("serves many concurrent requests through its queue", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => get({ query: `SELECT ${i}` }).then((r) => r.text())),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => `${i}\n`));
  });
});

describe("inserts", () => {
  it("inserts JSONEachRow through client-web and reports written rows in X-ClickHouse-Summary", async () => {
    const result = await client.insert({
      table: "items",
      values: [
        { id: 1, name: "mug", price: 12.5 },
        { id: 2, name: "cup", price: 3.25 },
      ],
      format: "JSONEachRow",
    });
    expect(result.executed).toBe(true);
    const summary = JSON.parse(result.response_headers["x-clickhouse-summary"] as string) as { written_rows: string };
    expect(summary.written_rows).toBe("2");
    const rows = await (
      await client.query({
        query: "SELECT id, name, toString(price) AS price FROM items WHERE id <= 2 ORDER BY id",
        format: "JSONEachRow",
      })
    ).json();
    expect(rows).toEqual([
      { id: 1, name: "mug", price: "12.5" },
      { id: 2, name: "cup", price: "3.25" },
    ]);
  });

  it("accepts ?query=INSERT … with an NDJSON body, and inline data after FORMAT in the body", async () => {
    const viaUrl = await fetch(
      `${server.url}/?${new URLSearchParams({ database: "test", query: "INSERT INTO items (id, name) FORMAT JSONEachRow" })}`,
      {
        method: "POST",
        body: '{"id":10,"name":"a"}\n{"id":11,"name":"b"}\n',
      },
    );
    expect(viaUrl.status).toBe(200);
    const inline = await fetch(`${server.url}/`, {
      method: "POST",
      body: 'INSERT INTO test.items FORMAT JSONEachRow\n{"id":12,"name":"c"}\n',
    });
    expect(inline.status).toBe(200);
    expect(await count("items", "id BETWEEN 10 AND 12")).toBe(3);
  });

  it("drops a retried insert carrying the same insert_deduplication_token", async () => {
    const insert = (token: string) =>
      client.insert({
        table: "items",
        values: [{ id: 100, name: "dedup", price: 1 }],
        format: "JSONEachRow",
        clickhouse_settings: { insert_deduplication_token: token },
      });
    await insert("token-a");
    await insert("token-a");
    expect(await count("items", "id = 100")).toBe(1);
    await insert("token-b");
    expect(await count("items", "id = 100")).toBe(2);
  });
});

describe("parameters and settings", () => {
  it("binds {name:Type} parameters, including quotes, escapes, arrays and NULL", async () => {
    const result = await client.query({
      query:
        "SELECT {s:String} AS s, {n:UInt32} * 2 AS n, {a:Array(String)} AS a, {maybe:Nullable(String)} AS maybe, {d:DateTime64(3, 'UTC')} AS d",
      query_params: {
        s: "it's a\ttab\\ and\nnewline",
        n: 21,
        a: ["x'y", "b\\c"],
        maybe: null,
        d: new Date("2026-01-02T03:04:05.678Z"),
      },
      format: "JSONEachRow",
    });
    expect(await result.json()).toEqual([
      { s: "it's a\ttab\\ and\nnewline", n: 42, a: ["x'y", "b\\c"], maybe: null, d: "2026-01-02 03:04:05.678" },
    ]);
  });

  it("keeps parameters in values: an injection attempt is just a string", async () => {
    const result = await client.query({
      query: "SELECT count() AS n FROM items WHERE name = {name:String}",
      query_params: { name: "' OR 1=1 --" },
      format: "JSONEachRow",
    });
    expect(await result.json()).toEqual([{ n: 0 }]);
  });

  it("applies URL settings to one query only", async () => {
    const limited = await rejection(
      client.query({
        query: "SELECT number FROM system.numbers LIMIT 10",
        format: "JSONEachRow",
        clickhouse_settings: { max_result_rows: "3", result_overflow_mode: "throw" },
      }),
    );
    expect(limited.code).toBe("396");
    const settingNow = async (settings: Record<string, string>) =>
      (
        await (
          await client.query({
            query: "SELECT toUInt64(getSetting('max_result_rows')) AS v, currentDatabase() AS db",
            format: "JSONEachRow",
            clickhouse_settings: settings,
          })
        ).json()
      )[0];
    // output_format_json_quote_64bit_integers is 0 by default in this engine: UInt64 comes back as a number.
    expect(await settingNow({ max_result_rows: "5", output_format_json_quote_64bit_integers: "1" })).toEqual({
      v: "5",
      db: "test",
    });
    expect(await settingNow({})).toEqual({ v: 0, db: "test" });
    // The database URL parameter does not leak either.
    expect(await (await get({ query: "SELECT currentDatabase()" })).text()).toBe("default\n");
    const unlimited = await client.query({
      query: "SELECT number FROM system.numbers LIMIT 10",
      format: "JSONEachRow",
    });
    expect(await unlimited.json()).toHaveLength(10);
  });

  it("accepts the settings client-web and EdgePulse send", async () => {
    const result = await client.query({
      query: "SELECT toUInt64(1) AS big",
      format: "JSONEachRow",
      clickhouse_settings: {
        output_format_json_quote_64bit_integers: 0,
        max_execution_time: 5,
        async_insert: 0,
        wait_end_of_query: 1,
        enable_http_compression: 1,
        readonly: "1",
      },
    });
    expect(await result.json()).toEqual([{ big: 1 }]);
  });

  it("refuses an unknown setting with UNKNOWN_SETTING", async () => {
    const response = await get({ query: "SELECT 1", no_such_setting: "1" });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-clickhouse-exception-code")).toBe("115");
  });
});

describe("errors", () => {
  it("answers a syntax error with 400, the code header and ClickHouse's message format", async () => {
    const response = await fetch(`${server.url}/`, { method: "POST", body: "SELECT FROM WHERE" });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-clickhouse-exception-code")).toBe("62");
    expect(await response.text()).toMatch(
      /^Code: 62\. DB::Exception: Syntax error.*\(SYNTAX_ERROR\) \(version \d+\.\d+[^)]*\)\n$/s,
    );
    const error = await rejection(client.query({ query: "SELECT (1", format: "JSONEachRow" }));
    expect(error.code).toBe("62");
    expect(error.type).toBe("SYNTAX_ERROR");
  });

  it("answers an unknown table with 404 and UNKNOWN_TABLE", async () => {
    const response = await get({ query: "SELECT * FROM test.missing" });
    expect(response.status).toBe(404);
    expect(response.headers.get("x-clickhouse-exception-code")).toBe("60");
    expect(await response.text()).toMatch(/^Code: 60\. DB::Exception: .*missing.*\(UNKNOWN_TABLE\)/s);
    const error = await rejection(client.query({ query: "SELECT * FROM missing", format: "JSONEachRow" }));
    expect(error.type).toBe("UNKNOWN_TABLE");
  });

  it("answers bad rows with 400 CANNOT_PARSE_*", async () => {
    const error = await rejection(
      client.insert({ table: "items", values: [{ id: "not a number", name: "x" }], format: "JSONEachRow" }),
    );
    expect(error.code).toBe("27");
  });

  it("answers an empty query with 400", async () => {
    const response = await fetch(`${server.url}/`, { method: "POST", body: "  " });
    expect(response.status).toBe(400);
    expect(response.headers.get("x-clickhouse-exception-code")).toBe("62");
  });
});

describe("readonly", () => {
  it("refuses writes with readonly=1 (READONLY, 500 as on clickhouse-server) and still reads", async () => {
    const error = await rejection(
      client.insert({
        table: "items",
        values: [{ id: 200, name: "ro" }],
        format: "JSONEachRow",
        clickhouse_settings: { readonly: "1" },
      }),
    );
    expect(error.code).toBe("164");
    const ddl = await fetch(`${server.url}/?readonly=1`, {
      method: "POST",
      body: "CREATE TABLE test.ro (a UInt8) ENGINE = Memory",
    });
    expect(ddl.status).toBe(500);
    expect(ddl.headers.get("x-clickhouse-exception-code")).toBe("164");
    expect(await ddl.text()).toMatch(/\(READONLY\)/);
    const read = await client.query({
      query: "SELECT 1 AS one",
      format: "JSONEachRow",
      clickhouse_settings: { readonly: "1" },
    });
    expect(await read.json()).toEqual([{ one: 1 }]);
    expect(await count("items", "id = 200")).toBe(0);
  });

  it("treats GET as readonly, like clickhouse-server", async () => {
    const response = await get({ query: "INSERT INTO test.items (id, name) VALUES (201, 'get')" });
    expect(response.headers.get("x-clickhouse-exception-code")).toBe("164");
    expect(await count("items", "id = 201")).toBe(0);
  });
});

describe("request limits", () => {
  it("answers 413 to a body over the limit, declared or streamed, without running it", async () => {
    const big = `INSERT INTO test.items FORMAT JSONEachRow\n${'{"id":300,"name":"big"}\n'.repeat(Math.ceil(MAX_BODY_BYTES / 20))}`;
    const declared = await fetch(`${server.url}/`, { method: "POST", body: big });
    expect(declared.status).toBe(413);
    expect(declared.headers.get("x-clickhouse-exception-code")).toBe("229");
    expect(await declared.text()).toMatch(/^Code: 229\. DB::Exception: Request body is larger/);

    const encoded = new TextEncoder().encode(big);
    const chunks = [encoded.subarray(0, 1000), encoded.subarray(1000)];
    const streamed = await fetch(`${server.url}/`, {
      method: "POST",
      body: new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await count("items", "id = 300")).toBe(0);
  });

  it("refuses queries beyond its queue bound instead of buffering them", async () => {
    const small = await startLocalClickHouse({ port: 0, dataDir, maxPendingQueries: 1 });
    try {
      const slow = fetch(`${small.url}/`, {
        method: "POST",
        body: "SELECT sleepEachRow(0.1) FROM numbers(3) FORMAT Null",
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = await fetch(`${small.url}/?query=SELECT+1`);
      expect(refused.status).toBe(500);
      expect(refused.headers.get("x-clickhouse-exception-code")).toBe("202");
      expect((await slow).status).toBe(200);
      expect(await (await fetch(`${small.url}/?query=SELECT+1`)).text()).toBe("1\n");
    } finally {
      await small.close();
    }
  });

  it("takes the database and default format from X-ClickHouse-Database / X-ClickHouse-Format headers", async () => {
    const response = await get(
      { query: "SELECT currentDatabase() AS db" },
      { headers: { "X-ClickHouse-Database": "test", "X-ClickHouse-Format": "JSONEachRow" } },
    );
    expect(await response.text()).toBe('{"db":"test"}\n');
  });

  it("answers unknown paths with 404", async () => {
    expect((await fetch(`${server.url}/play`)).status).toBe(404);
  });
});

describe("authentication", () => {
  let secured: LocalClickHouse;

  beforeAll(async () => {
    // Same data directory: the engine allows several connections to one directory in a process.
    secured = await startLocalClickHouse({ port: 0, dataDir, user: "edge", password: "s3cret" });
  });

  afterAll(async () => {
    await secured?.close();
  });

  it("accepts Basic auth and X-ClickHouse-User/Key for the configured user", async () => {
    const basic = await fetch(`${secured.url}/?query=SELECT+1`, {
      headers: { Authorization: `Basic ${btoa("edge:s3cret")}` },
    });
    expect(await basic.text()).toBe("1\n");
    const headers = await fetch(`${secured.url}/?query=SELECT+2`, {
      headers: { "X-ClickHouse-User": "edge", "X-ClickHouse-Key": "s3cret" },
    });
    expect(await headers.text()).toBe("2\n");
    const good = createClient({ url: secured.url, username: "edge", password: "s3cret" });
    expect(await (await good.query({ query: "SELECT 3 AS n", format: "JSONEachRow" })).json()).toEqual([{ n: 3 }]);
    await good.close();
  });

  it("refuses wrong or missing credentials with AUTHENTICATION_FAILED", async () => {
    const attempts: Array<Record<string, string>> = [
      { Authorization: `Basic ${btoa("edge:wrong")}` },
      { "X-ClickHouse-User": "default" },
      {},
    ];
    for (const headers of attempts) {
      const response = await fetch(`${secured.url}/?query=SELECT+1`, { headers });
      expect(response.status).toBe(403);
      expect(response.headers.get("x-clickhouse-exception-code")).toBe("516");
      expect(await response.text()).toMatch(
        /^Code: 516\. DB::Exception: .*Authentication failed.*\(AUTHENTICATION_FAILED\)/,
      );
    }
    const wrong = createClient({ url: secured.url, username: "edge", password: "nope" });
    const error = await rejection(wrong.query({ query: "SELECT 1", format: "JSONEachRow" }));
    expect(error.code).toBe("516");
    await wrong.close();
  });
});
