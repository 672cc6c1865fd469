/**
 * `/v1/history/goals` against the real ClickHouse engine, equal to counts made by hand.
 *
 * Four sessions start in the range: g1 (Email) views / and /blog/a, signs up (plan=pro,
 * value=30) and downloads; g2 views /abc and signs up twice (plan=free); g3 views / and
 * /pricing and fires "late" a minute after the range ends; g4 (Email) views /blog/a and signs up
 * (plan=pro, value=12.5). g5 started before the range: its signup in the range does not count.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { errorResponseSchema } from "../../protocol";
import { historyGoalsSchema } from "../../protocol/goal-history";
import { eventRow, getJson, historyPath, sessionRow, testClickHouse } from "./history-fixture";

const SITE = "goal-shop";
const OTHER = "goal-other";
const TOKEN = "goal-shop-read-token-0123456789abc";
const testEnv: Env = {
  ...env,
  SITES: JSON.stringify([
    { key: SITE, origins: ["*"], token: TOKEN },
    { key: OTHER, origins: ["*"], token: "goal-other-read-token-0123456789ab" },
  ]),
};
const T0 = Date.UTC(2025, 8, 4, 15, 0, 0);
const RANGE = { site: SITE, from: T0, to: T0 + 3600_000 };
const get = (path: string) => getJson(testEnv, path, TOKEN);
const goals = async (params: Record<string, string | number>, filters: string[] = [], pageGoals: string[] = []) => {
  const search = historyPath("goals", { ...RANGE, ...params }, filters);
  const path = pageGoals.reduce((url, goal) => `${url}&goal=${encodeURIComponent(goal)}`, search);
  const answer = await get(path);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return historyGoalsSchema.parse(answer.body);
};

beforeAll(async () => {
  const clickhouse = testClickHouse();
  const custom = (id: string, session: string, second: number, name: string, props: Record<string, unknown>) =>
    eventRow(SITE, id, T0 + second * 1000, { session_id: session, type: "custom", name, props: JSON.stringify(props) });
  const view = (id: string, session: string, second: number, path: string) =>
    eventRow(SITE, id, T0 + second * 1000, { session_id: session, path });
  await clickhouse.insert(
    "events",
    [
      view("e1", "g1", 1, "/"),
      view("e2", "g1", 2, "/blog/a"),
      custom("e3", "g1", 3, "signup", { plan: "pro", value: 30 }),
      custom("e4", "g1", 4, "download", { file: "a.pdf" }),
      view("e5", "g2", 5, "/abc"),
      custom("e6", "g2", 6, "signup", { plan: "free" }),
      custom("e7", "g2", 7, "signup", { plan: "free" }),
      view("e8", "g3", 8, "/"),
      view("e9", "g3", 9, "/pricing"),
      custom("e10", "g3", 3660, "late", {}),
      view("e11", "g4", 11, "/blog/a"),
      custom("e12", "g4", 12, "signup", { plan: "pro", value: 12.5 }),
      custom("e13", "g5", 13, "signup", { plan: "pro", value: 100 }),
      eventRow(OTHER, "x1", T0 + 1000, { session_id: "g1", type: "custom", name: "secret-signup", props: "{}" }),
    ],
    "goal-history-events",
  );
  await clickhouse.insert(
    "sessions",
    [
      sessionRow(SITE, "g1", T0 + 1000, { visitor_id: "v1", channel: "Email" }),
      sessionRow(SITE, "g2", T0 + 5000, { visitor_id: "v2" }),
      sessionRow(SITE, "g3", T0 + 8000, { visitor_id: "v3" }),
      sessionRow(SITE, "g4", T0 + 11_000, { visitor_id: "v4", channel: "Email" }),
      sessionRow(SITE, "g5", T0 - 120_000, { visitor_id: "v5" }),
      sessionRow(OTHER, "g1", T0 + 1000, {}),
    ],
    "goal-history-sessions",
  );
});

describe("GET /v1/history/goals", () => {
  it("answers custom-event goals: conversions, rate, events and revenue", async () => {
    const answer = await goals({});
    expect(answer).toMatchObject({ site: SITE, time_zone: "UTC", sessions: 4, properties: null });
    expect(answer.goals).toEqual([
      { type: "event", name: "signup", conversions: 3, conversion_rate: 0.75, events: 4, revenue: 42.5 },
      { type: "event", name: "download", conversions: 1, conversion_rate: 0.25, events: 1, revenue: 0 },
      { type: "event", name: "late", conversions: 1, conversion_rate: 0.25, events: 1, revenue: 0 },
    ]);
  });

  it("answers page goals by pattern, * for any run and the rest literal", async () => {
    const answer = await goals({}, [], ["page:/blog/*", "page:/a_c", "page:/"]);
    expect(answer.goals.filter((goal) => goal.type === "page")).toEqual([
      { type: "page", name: "/blog/*", conversions: 2, conversion_rate: 0.5, events: 2, revenue: 0 },
      { type: "page", name: "/a_c", conversions: 0, conversion_rate: 0, events: 0, revenue: 0 },
      { type: "page", name: "/", conversions: 2, conversion_rate: 0.5, events: 2, revenue: 0 },
    ]);
  });

  it("breaks one event down by property, in the prop filter's terms", async () => {
    const answer = await goals({ event: "signup" });
    expect(answer.properties).toEqual([
      { key: "plan", value: "pro", conversions: 2, conversion_rate: 0.5, events: 2, revenue: 42.5 },
      { key: "plan", value: "free", conversions: 1, conversion_rate: 0.25, events: 2, revenue: 0 },
      { key: "value", value: "12.5", conversions: 1, conversion_rate: 0.25, events: 1, revenue: 12.5 },
      { key: "value", value: "30", conversions: 1, conversion_rate: 0.25, events: 1, revenue: 30 },
    ]);
    const pro = await goals({}, ["prop:is:plan=pro"]);
    expect(pro.sessions).toBe(2);
  });

  it("honours filters: rates over the filtered sessions", async () => {
    const answer = await goals({}, ["channel:is:Email"], ["page:/blog/*"]);
    expect(answer.sessions).toBe(2);
    expect(answer.goals).toEqual([
      { type: "event", name: "signup", conversions: 2, conversion_rate: 1, events: 2, revenue: 42.5 },
      { type: "event", name: "download", conversions: 1, conversion_rate: 0.5, events: 1, revenue: 0 },
      { type: "page", name: "/blog/*", conversions: 2, conversion_rate: 1, events: 2, revenue: 0 },
    ]);
    expect(JSON.stringify(answer)).not.toContain("secret");
  });

  it("refuses a malformed goal or event with a 400 naming it", async () => {
    const bad = await get(`${historyPath("goals", RANGE)}&goal=${encodeURIComponent("event:signup")}`);
    expect(bad.status).toBe(400);
    expect(errorResponseSchema.parse(bad.body).error.issues?.map((issue) => issue.path)).toEqual(["goal.0"]);
    const empty = await get(`${historyPath("goals", RANGE)}&event=`);
    expect(empty.status).toBe(400);
    const eleven = Array.from({ length: 11 }, (_, index) => `&goal=page:/${index}`).join("");
    expect((await get(`${historyPath("goals", RANGE)}${eleven}`)).status).toBe(400);
  });
});
