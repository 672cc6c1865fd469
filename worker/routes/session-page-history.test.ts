/**
 * `/v1/history/{entry-pages,exit-pages}` against the real ClickHouse engine, equal to counts
 * made by hand over known sessions and page views, with and without a filter.
 *
 * Sessions in the range: a1 (v1) / → /cart; a2 (v2) / bounce; a3 (v1, Email) /blog/x → /cart
 * (viewed twice); a4 (v3, Email) / → /cart → /thanks. Page views of /cart: 4 (1 + 2 + 1).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { historyEntryPagesSchema, historyExitPagesSchema } from "../../protocol/session-page-history";
import { eventRow, getJson, historyPath, sessionRow, testClickHouse } from "./history-fixture";

const SITE = "pages-shop";
const OTHER = "pages-other";
const TOKEN = "pages-shop-read-token-0123456789ab";
const testEnv: Env = {
  ...env,
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: TOKEN },
    { key: OTHER, origins: ["*"], token: "pages-other-read-token-0123456789" },
  ]),
};
const T0 = Date.UTC(2025, 8, 3, 15, 0, 0);
const RANGE = { site: SITE, from: T0, to: T0 + 3600_000 };
const get = (path: string) => getJson(testEnv, path, TOKEN);

beforeAll(async () => {
  const clickhouse = testClickHouse();
  const views: [string, string, string, number][] = [
    ["a1", "v1", "/", 1],
    ["a1", "v1", "/cart", 2],
    ["a2", "v2", "/", 3],
    ["a3", "v1", "/blog/x", 4],
    ["a3", "v1", "/cart", 5],
    ["a3", "v1", "/cart", 6],
    ["a4", "v3", "/", 7],
    ["a4", "v3", "/cart", 8],
    ["a4", "v3", "/thanks", 9],
  ];
  await clickhouse.insert(
    "events",
    [
      ...views.map(([session, visitor, path, second]) =>
        eventRow(SITE, `pv${second}`, T0 + second * 1000, { session_id: session, visitor_id: visitor, path }),
      ),
      eventRow(OTHER, "pvx", T0 + 1000, { session_id: "a1", path: "/cart" }),
    ],
    "session-page-events",
  );
  const email = { channel: "Email", utm_source: "newsletter", utm_medium: "email" };
  await clickhouse.insert(
    "sessions",
    [
      sessionRow(SITE, "a1", T0 + 1000, { visitor_id: "v1", entry_path: "/", exit_path: "/cart" }),
      sessionRow(SITE, "a2", T0 + 3000, { visitor_id: "v2", entry_path: "/", exit_path: "/", bounced: 1 }),
      sessionRow(SITE, "a3", T0 + 4000, { ...email, visitor_id: "v1", entry_path: "/blog/x", exit_path: "/cart" }),
      sessionRow(SITE, "a4", T0 + 7000, { ...email, visitor_id: "v3", entry_path: "/", exit_path: "/thanks" }),
      sessionRow(SITE, "a5", T0 - 1000, { visitor_id: "v9", entry_path: "/early", exit_path: "/early" }),
      sessionRow(OTHER, "a1", T0 + 1000, { entry_path: "/secret", exit_path: "/secret" }),
    ],
    "session-page-sessions",
  );
});

describe("GET /v1/history/{entry-pages,exit-pages}", () => {
  it("answers entry pages with sessions, visitors and bounce rate", async () => {
    const answer = historyEntryPagesSchema.parse((await get(historyPath("entry-pages", RANGE))).body);
    expect(answer).toMatchObject({ site: SITE, time_zone: "UTC" });
    expect(answer.rows).toEqual([
      { path: "/", sessions: 3, visitors: 3, bounce_rate: 1 / 3 },
      { path: "/blog/x", sessions: 1, visitors: 1, bounce_rate: 0 },
    ]);
  });

  it("answers exit pages with exits over the page's views", async () => {
    const answer = historyExitPagesSchema.parse((await get(historyPath("exit-pages", RANGE))).body);
    expect(answer.rows).toEqual([
      { path: "/cart", sessions: 2, visitors: 1, page_views: 4, exit_rate: 0.5 },
      { path: "/", sessions: 1, visitors: 1, page_views: 3, exit_rate: 1 / 3 },
      { path: "/thanks", sessions: 1, visitors: 1, page_views: 1, exit_rate: 1 },
    ]);
  });

  it("filters both by session, and exit rates by the same sessions' views", async () => {
    const entry = historyEntryPagesSchema.parse(
      (await get(historyPath("entry-pages", RANGE, ["channel:is:Email"]))).body,
    );
    expect(entry.rows.map((row) => [row.path, row.sessions])).toEqual([
      ["/", 1],
      ["/blog/x", 1],
    ]);
    const exit = historyExitPagesSchema.parse((await get(historyPath("exit-pages", RANGE, ["channel:is:Email"]))).body);
    expect(exit.rows).toEqual([
      { path: "/cart", sessions: 1, visitors: 1, page_views: 3, exit_rate: 1 / 3 },
      { path: "/thanks", sessions: 1, visitors: 1, page_views: 1, exit_rate: 1 },
    ]);
    const notBlog = historyEntryPagesSchema.parse(
      (await get(historyPath("entry-pages", RANGE, ["page:is_not:/blog/x", "country:is:DE"]))).body,
    );
    expect(notBlog.rows.map((row) => [row.path, row.sessions])).toEqual([["/", 3]]);
  });

  it("honours limit and never shows another site's sessions", async () => {
    const limited = historyExitPagesSchema.parse((await get(historyPath("exit-pages", { ...RANGE, limit: 1 }))).body);
    expect(limited.rows.map((row) => row.path)).toEqual(["/cart"]);
    expect(JSON.stringify((await get(historyPath("entry-pages", RANGE))).body)).not.toContain("secret");
  });
});
