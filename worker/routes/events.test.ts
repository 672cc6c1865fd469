import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { errorResponseSchema, MAX_BODY_BYTES, type BatchInput, type IngestOutcome } from "../../protocol";
import { app } from "../app";
import type { BatchClaim } from "../../durable-objects/batch-ledger";
import { loadConfig } from "../../common/config";
import { batchLedgerName, shardIndexFor } from "../../common/shard-routing";

const NOW = () => Date.now();
let counter = 0;
const uniqueBatchId = () => `b-route-${Date.now()}-${counter++}`;

function batch(overrides: Partial<BatchInput> = {}): BatchInput {
  const now = NOW();
  return {
    v: 1,
    site: "demo",
    batch: uniqueBatchId(),
    sent_at: now,
    events: [
      { type: "page_view", id: "e1", ts: now - 50, url: "https://shop.example/p/42", referrer: "https://google.com/" },
      {
        type: "cart",
        id: "e2",
        ts: now - 40,
        action: "add",
        product_id: "sku-42",
        name: "Blue mug",
        price: 12.5,
        quantity: 2,
        currency: "EUR",
      },
    ],
    ...overrides,
  };
}

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://collector.test/v1/events", {
    method: "POST",
    body,
    headers: { "Content-Type": "text/plain;charset=UTF-8", ...headers },
  });
}

async function send(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

/** Calls the Worker with other configuration (env objects are parsed once each). */
async function sendWith(vars: Partial<Env>, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ message: string; issues?: { path: string; message: string }[] }> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toContain("application/json");
  const body = errorResponseSchema.parse(await response.json());
  expect(body.error.code).toBe(code);
  return body.error;
}

const SHOP_SITES = JSON.stringify([{ key: "shop", origins: ["https://shop.example"] }]);

function shardNamespaceAnswering(answer: () => Promise<IngestOutcome>): Env["INGEST_SHARD"] {
  // Fault injection at the RPC boundary: the real namespace cannot be made to fail on demand.
  const namespace = {
    idFromName: (name: string) => name,
    get: () => ({ ingest: answer }),
  };
  return namespace as unknown as Env["INGEST_SHARD"];
}

describe("POST /v1/events", () => {
  it("accepts a text/plain batch with 202 and the number of events", async () => {
    const response = await send(post(JSON.stringify(batch())));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ accepted: 2, duplicate: false });
  });

  it("accepts application/json too", async () => {
    const response = await send(post(JSON.stringify(batch()), { "Content-Type": "application/json" }));
    expect(response.status).toBe(202);
  });

  it("answers a resent batch as a duplicate", async () => {
    const body = JSON.stringify(batch({ visitor: "v-resend" }));
    expect((await send(post(body))).status).toBe(202);
    const again = await send(post(body));
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual({ accepted: 0, duplicate: true });
  });

  it("refuses other methods with 405 method_not_allowed and an Allow header", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const response = await send(
        new Request("http://collector.test/v1/events", {
          method,
          body: method === "GET" ? null : JSON.stringify(batch()),
        }),
      );
      await expectError(response, 405, "method_not_allowed");
      expect(response.headers.get("Allow")).toBe("POST, OPTIONS");
    }
  });

  it("refuses other media types with 415", async () => {
    await expectError(
      await send(post(JSON.stringify(batch()), { "Content-Type": "application/x-www-form-urlencoded" })),
      415,
      "unsupported_media_type",
    );
  });

  it("refuses malformed JSON, invalid UTF-8 and an empty body with 400", async () => {
    expect((await expectError(await send(post('{"v":1,')), 400, "invalid_payload")).message).toContain("JSON");
    expect(
      (await expectError(await send(post(new Uint8Array([0x7b, 0xff, 0x7d]))), 400, "invalid_payload")).message,
    ).toContain("UTF-8");
    await expectError(await send(post("")), 400, "invalid_payload");
  });

  it("names the failing paths of wrong types and unknown event types", async () => {
    const wrongPrice = batch();
    wrongPrice.events = [
      { type: "cart", id: "e1", ts: NOW(), action: "add", product_id: "p", price: "12" as unknown as number },
    ];
    const issues =
      (await expectError(await send(post(JSON.stringify(wrongPrice))), 400, "invalid_payload")).issues ?? [];
    expect(issues.map((issue) => issue.path)).toContain("events.0.price");

    const unknownType = { ...batch(), events: [{ type: "teleport", id: "e1", ts: NOW() }] };
    const typeIssues =
      (await expectError(await send(post(JSON.stringify(unknownType))), 400, "invalid_payload")).issues ?? [];
    expect(typeIssues.map((issue) => issue.path)).toContain("events.0.type");
  });

  it("refuses more than 100 events", async () => {
    const now = NOW();
    const tooMany = batch({
      events: Array.from({ length: 101 }, (_, index) => ({
        type: "page_view" as const,
        id: `e${index}`,
        ts: now,
        url: "https://a/",
      })),
    });
    const issues = (await expectError(await send(post(JSON.stringify(tooMany))), 400, "invalid_payload")).issues ?? [];
    expect(issues.map((issue) => issue.path)).toContain("events");
  });

  it("refuses an oversize body by Content-Length and while streaming, with 413", async () => {
    const big = JSON.stringify({ ...batch(), padding: "x".repeat(MAX_BODY_BYTES) });
    await expectError(await send(post(big)), 413, "payload_too_large");

    const chunk = new TextEncoder().encode("x".repeat(8192));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    await expectError(await send(post(endless)), 413, "payload_too_large");
    // An endless body is read (and discarded) up to 32 × the limit, then cut off.
    expect(sent).toBeLessThanOrEqual(MAX_BODY_BYTES * 32 + 2 * chunk.byteLength);
  });

  it("refuses event times outside the accepted range, naming the path", async () => {
    const old = batch({
      events: [{ type: "page_view", id: "e1", ts: NOW() - 3 * 24 * 3600 * 1000, url: "https://a/" }],
    });
    const issues = (await expectError(await send(post(JSON.stringify(old))), 400, "invalid_payload")).issues ?? [];
    expect(issues.map((issue) => issue.path)).toEqual(["events.0.ts"]);
  });

  it("refuses an unknown site with 403 unknown_site", async () => {
    await expectError(await send(post(JSON.stringify(batch({ site: "nope" })))), 403, "unknown_site");
  });

  it("refuses an origin the site does not allow, and accepts server-to-server posts", async () => {
    const vars = { SITES: SHOP_SITES, LOCAL_DEV: "", VISITOR_SECRET: "visitor-secret-for-tests" };
    const body = () => JSON.stringify(batch({ site: "shop" }));
    await expectError(
      await sendWith(vars, post(body(), { Origin: "https://evil.example" })),
      403,
      "origin_not_allowed",
    );
    const allowed = await sendWith(vars, post(body(), { Origin: "https://shop.example" }));
    expect(allowed.status).toBe(202);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
    expect((await sendWith(vars, post(body()))).status).toBe(202);
  });

  it("lets an allowed origin read error answers too", async () => {
    const response = await sendWith({ SITES: SHOP_SITES }, post("{", { Origin: "https://shop.example" }));
    await expectError(response, 400, "invalid_payload");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
  });

  it("answers CORS preflights for allowed origins only", async () => {
    const preflight = (origin: string) =>
      new Request("http://collector.test/v1/events", {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "content-type",
        },
      });
    const vars = { SITES: SHOP_SITES, LOCAL_DEV: "" };
    const ok = await sendWith(vars, preflight("https://shop.example"));
    expect(ok.status).toBe(204);
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example");
    expect(ok.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(ok.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("content-type");
    await expectError(await sendWith(vars, preflight("https://evil.example")), 403, "origin_not_allowed");
  });

  it("answers 503 unavailable when no visitor id can be derived without VISITOR_SECRET", async () => {
    const vars = { SITES: SHOP_SITES, LOCAL_DEV: "" };
    expect(
      (await expectError(await sendWith(vars, post(JSON.stringify(batch({ site: "shop" })))), 503, "unavailable"))
        .message,
    ).toContain("VISITOR_SECRET");
    // A batch that brings its own visitor id needs no secret.
    expect((await sendWith(vars, post(JSON.stringify(batch({ site: "shop", visitor: "v-own" }))))).status).toBe(202);
  });

  it("maps a shard's rate_limited answer to 429 rate_limited with its Retry-After", async () => {
    const response = await sendWith(
      { INGEST_SHARD: shardNamespaceAnswering(async () => ({ status: "rate_limited", retry_after_seconds: 4 })) },
      post(JSON.stringify(batch())),
    );
    await expectError(response, 429, "rate_limited");
    expect(response.headers.get("Retry-After")).toBe("4");
  });

  it("maps an overloaded shard to 503 overloaded with Retry-After", async () => {
    const response = await sendWith(
      { INGEST_SHARD: shardNamespaceAnswering(async () => ({ status: "overloaded", retry_after_seconds: 3 })) },
      post(JSON.stringify(batch())),
    );
    await expectError(response, 503, "overloaded");
    expect(response.headers.get("Retry-After")).toBe("3");
  });

  it("maps a batch ledger at its bound of ids to 503 overloaded with Retry-After", async () => {
    // Fault injection at the RPC boundary: a real ledger reaches its bound only after 16 M claims.
    const full: BatchClaim = { status: "full", retry_after_seconds: 7 };
    const ledger = { idFromName: (name: string) => name, get: () => ({ claim: async () => full }) };
    // Only a resend that no shard holds reaches the ledger.
    const response = await sendWith(
      { BATCH_LEDGER: ledger as unknown as Env["BATCH_LEDGER"] },
      post(JSON.stringify(batch({ visitor: "v-ledger-full", retry: 1 }))),
    );
    await expectError(response, 503, "overloaded");
    expect(response.headers.get("Retry-After")).toBe("7");
  });

  it("maps a failing shard call to 503 unavailable with Retry-After, never a 500", async () => {
    const response = await sendWith(
      {
        INGEST_SHARD: shardNamespaceAnswering(async () => {
          throw new Error("Durable Object reset because its code was updated.");
        }),
      },
      post(JSON.stringify(batch())),
    );
    await expectError(response, 503, "unavailable");
    expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("routes a batch to the shard of hash(visitor) % SHARDS with the enriched fields", async () => {
    const received: unknown[] = [];
    const names: string[] = [];
    const namespace = {
      idFromName: (name: string) => {
        names.push(name);
        return name;
      },
      get: () => ({
        ingest: async (enriched: unknown) => {
          received.push(enriched);
          return { status: "accepted", accepted: 1 } satisfies IngestOutcome;
        },
      }),
    } as unknown as Env["INGEST_SHARD"];
    const headers = {
      "User-Agent":
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
      "CF-Connecting-IP": "203.0.113.9",
    };
    const first = batch();
    const second = batch();
    expect(
      (await sendWith({ INGEST_SHARD: namespace, SHARDS: "4" }, post(JSON.stringify(first), headers))).status,
    ).toBe(202);
    expect(
      (await sendWith({ INGEST_SHARD: namespace, SHARDS: "4" }, post(JSON.stringify(second), headers))).status,
    ).toBe(202);
    const [one, two] = received as {
      visitor_id: string;
      shard: number;
      device: string;
      browser: string;
      os: string;
      country: string;
    }[];
    expect(one?.visitor_id).toMatch(/^v-[0-9a-f]{32}$/);
    // Same IP and User-Agent on the same day: same visitor, same shard.
    expect(two?.visitor_id).toBe(one?.visitor_id);
    expect(names[0]).toBe(`demo:${one?.shard}`);
    expect(names[1]).toBe(names[0]);
    expect(one).toMatchObject({ device: "mobile", browser: "Safari", os: "iOS", country: "" });
    expect(JSON.stringify(received)).not.toContain("203.0.113.9");
  });
});

describe("POST /v1/events: a batch id counts once on any shard (issue 11)", () => {
  /** Two client addresses whose cookieless visitors land on different shards (found, not assumed). */
  async function addressesOnTwoShards(userAgent: string): Promise<[string, string]> {
    const { deriveVisitorId } = await import("../visitor-id");
    const { shardIndexFor } = await import("../../common/shard-routing");
    const { loadConfig } = await import("../../common/config");
    const config = loadConfig(env);
    const shardOf = async (ip: string) =>
      shardIndexFor(
        await deriveVisitorId({ secret: config.visitorSecret ?? "", site: "demo", ip, userAgent, at: Date.now() }),
        config.shards,
      );
    const first = "198.51.100.10";
    for (let host = 1; host < 255; host++) {
      if ((await shardOf(`203.0.113.${host}`)) !== (await shardOf(first))) return [first, `203.0.113.${host}`];
    }
    throw new Error("no second shard found");
  }

  it("answers a resend from another IP as a duplicate, and counts it twice with DEDUP_ACROSS_SHARDS=off", async () => {
    // A browser's: a bot's batch would never reach a shard (bot-filter.ts).
    const userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 ledger-test";
    const [firstIp, secondIp] = await addressesOnTwoShards(userAgent);
    for (const setting of ["on", "off"] as const) {
      // As the SDK sends them: the first attempt with retry 0, the resend after the lost ack with retry 1.
      const first = batch({ retry: 0 });
      const from = (ip: string, body: BatchInput) =>
        post(JSON.stringify(body), { "CF-Connecting-IP": ip, "User-Agent": userAgent });
      expect((await sendWith({ DEDUP_ACROSS_SHARDS: setting }, from(firstIp, first))).status).toBe(202);
      const again = await sendWith({ DEDUP_ACROSS_SHARDS: setting }, from(secondIp, { ...first, retry: 1 }));
      expect(again.status).toBe(202);
      expect(await again.json()).toEqual(
        setting === "on" ? { accepted: 0, duplicate: true } : { accepted: 2, duplicate: false },
      );
    }
  });

  it("answers 409 batch_conflict for a reused batch id with other events, and a duplicate for a resend with a new sent_at", async () => {
    const first = batch({ visitor: "v-conflict" });
    expect((await send(post(JSON.stringify(first)))).status).toBe(202);
    const resent = await send(post(JSON.stringify({ ...first, sent_at: first.sent_at + 5000 })));
    expect(await resent.json()).toEqual({ accepted: 0, duplicate: true });
    const other = { ...first, events: [{ type: "page_view", id: "e9", ts: NOW(), url: "https://shop.example/other" }] };
    await expectError(await send(post(JSON.stringify(other))), 409, "batch_conflict");
  });

  /** Claims the BatchLedger slice of `batchId` holds for it (0 or 1). */
  async function ledgerClaims(batchId: string): Promise<number> {
    const ledger = env.BATCH_LEDGER.get(
      env.BATCH_LEDGER.idFromName(batchLedgerName("demo", batchId, loadConfig(env).shards)),
    );
    return runInDurableObject(
      ledger,
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM claims WHERE batch_id = ?", batchId).one().n,
    );
  }

  it("sends a first send straight to its shard, with no ledger claim; only a resend no shard holds is claimed", async () => {
    const marked = batch({ visitor: "v-no-ledger", retry: 0 });
    expect(await (await send(post(JSON.stringify(marked)))).json()).toEqual({ accepted: 2, duplicate: false });
    expect(await ledgerClaims(marked.batch)).toBe(0);
    // Unmarked and sent within RESEND_LAG_MS of its newest event: an older SDK's first send.
    const unmarked = batch({ visitor: "v-no-ledger" });
    expect((await send(post(JSON.stringify(unmarked)))).status).toBe(202);
    expect(await ledgerClaims(unmarked.batch)).toBe(0);
    // A resend whose first attempt never arrived: no shard holds it, so the ledger places it.
    const lost = batch({ visitor: "v-no-ledger", retry: 1 });
    expect(await (await send(post(JSON.stringify(lost)))).json()).toEqual({ accepted: 2, duplicate: false });
    expect(await ledgerClaims(lost.batch)).toBe(1);
    // An unmarked batch sent long after its events (an older SDK's resend) takes the resend route too.
    const late = batch({ visitor: "v-no-ledger" });
    const sentLate = { ...late, sent_at: late.sent_at + 5_000 };
    expect(await (await send(post(JSON.stringify(sentLate)))).json()).toEqual({ accepted: 2, duplicate: false });
    expect(await ledgerClaims(late.batch)).toBe(1);
  });

  it("sends a resend straight to the only shard when SHARDS is 1: its batch ids dedup every attempt", async () => {
    const first = batch({ visitor: "v-one-shard", retry: 0 });
    const resend = { ...first, retry: 1 };
    expect(await (await sendWith({ SHARDS: "1" }, post(JSON.stringify(first)))).json()).toEqual({
      accepted: 2,
      duplicate: false,
    });
    expect(await (await sendWith({ SHARDS: "1" }, post(JSON.stringify(resend)))).json()).toEqual({
      accepted: 0,
      duplicate: true,
    });
    const ledger = env.BATCH_LEDGER.get(env.BATCH_LEDGER.idFromName(batchLedgerName("demo", first.batch, 1)));
    const claims = await runInDurableObject(
      ledger,
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM claims WHERE batch_id = ?", first.batch).one()
          .n,
    );
    expect(claims).toBe(0);
  });

  it("refuses a first attempt arriving after a resend's probe with a retryable 503, and its marked resend is a duplicate", async () => {
    const userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 tombstone-test";
    const [firstIp, secondIp] = await addressesOnTwoShards(userAgent);
    const first = batch({ retry: 0 });
    const from = (ip: string, body: BatchInput) =>
      post(JSON.stringify(body), { "CF-Connecting-IP": ip, "User-Agent": userAgent });
    // The first attempt is slow on the way; the client gave up on it and resent from its new network.
    const resent = await send(from(secondIp, { ...first, retry: 1 }));
    expect(await resent.json()).toEqual({ accepted: 2, duplicate: false });
    // The first attempt lands on its own visitor's shard, which the resend's probe left a tombstone on.
    const late = await send(from(firstIp, first));
    await expectError(late, 503, "unavailable");
    expect(Number(late.headers.get("Retry-After"))).toBeGreaterThan(0);
    // Its client keeps the batch and resends it, marked: found on the resend's shard.
    const again = await send(from(firstIp, { ...first, retry: 1 }));
    expect(await again.json()).toEqual({ accepted: 0, duplicate: true });
  });

  it("answers 409 for an id reused with other events on the same shard, first send or resend", async () => {
    const first = batch({ visitor: "v-conflict-shard", retry: 0 });
    expect((await send(post(JSON.stringify(first)))).status).toBe(202);
    const other = {
      ...first,
      events: [{ type: "page_view" as const, id: "e9", ts: NOW(), url: "https://shop.example/x" }],
    };
    await expectError(await send(post(JSON.stringify(other))), 409, "batch_conflict");
    await expectError(await send(post(JSON.stringify({ ...other, retry: 1 }))), 409, "batch_conflict");
    expect(await ledgerClaims(first.batch)).toBe(0);
    // The same events again: still a duplicate, whichever route.
    expect(await (await send(post(JSON.stringify(first)))).json()).toEqual({ accepted: 0, duplicate: true });
    expect(await (await send(post(JSON.stringify({ ...first, retry: 2 })))).json()).toEqual({
      accepted: 0,
      duplicate: true,
    });
  });

  it("counts an id another visitor reuses on a first send to another shard, as the different batch it is", async () => {
    const shards = loadConfig(env).shards;
    const visitor = "v-reuse-0";
    let other = "";
    for (let i = 1; other === "" && i < 1000; i++)
      if (shardIndexFor(`v-reuse-${i}`, shards) !== shardIndexFor(visitor, shards)) other = `v-reuse-${i}`;
    const first = batch({ visitor, retry: 0 });
    expect((await send(post(JSON.stringify(first)))).status).toBe(202);
    const reused = {
      ...first,
      visitor: other,
      events: [{ type: "page_view" as const, id: "e1", ts: NOW(), url: "https://shop.example/y" }],
    };
    expect(await (await send(post(JSON.stringify(reused)))).json()).toEqual({ accepted: 1, duplicate: false });
  });
});
