/**
 * Campaigns end to end inside workerd: a page view posted to the Worker with campaign tags in
 * its URL reaches its shard, the session's first touch lands in ClickHouse with its flush,
 * and `/v1/history/campaigns` answers it. Events are two hours old, so the alarm closes the
 * session at once.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createClickHouse } from "../../clickhouse/client";
import { historyCampaignsSchema } from "../../protocol/campaign-history";
import { loadConfig, LOCAL_DEV_ADMIN_TOKEN, LOCAL_DEV_SITE } from "../../common/config";
import { ingestShardName, shardIndexFor } from "../../common/shard-routing";

const BROWSER =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const TWO_HOURS = 2 * 3600_000;

describe("a campaign from page URL to history", () => {
  it("stores the entry page view's campaign and channel on the session, and answers it by campaign", async () => {
    const config = loadConfig(env);
    const now = Date.now();
    const campaign = `flow-${now}`;
    const visitor = `v-flow-${now}`;
    const ts = now - TWO_HOURS;
    const response = await exports.default.fetch(
      new Request("http://collector.test/v1/events", {
        method: "POST",
        headers: { "Content-Type": "text/plain", "User-Agent": BROWSER },
        body: JSON.stringify({
          v: 1,
          site: LOCAL_DEV_SITE,
          batch: `b-${campaign}`,
          sent_at: now,
          visitor,
          events: [
            {
              type: "page_view",
              id: "e1",
              ts,
              url: `https://shop.example/?utm_source=Newsletter&utm_medium=email&utm_campaign=${campaign}`,
              referrer: "https://mail.google.com/",
            },
            {
              type: "page_view",
              id: "e2",
              ts: ts + 1000,
              url: "https://shop.example/p/1",
              referrer: "https://shop.example/",
            },
            { type: "purchase", id: "e3", ts: ts + 2000, order_id: `o-${campaign}`, value: 30, currency: "EUR" },
          ],
        }),
      }),
    );
    expect(await response.json()).toEqual({ accepted: 3, duplicate: false });

    const shard = env.INGEST_SHARD.get(
      env.INGEST_SHARD.idFromName(ingestShardName(LOCAL_DEV_SITE, shardIndexFor(visitor, config.shards))),
    );
    for (let pass = 0; pass < 5; pass++) {
      await runDurableObjectAlarm(shard);
      const stats = await shard.stats();
      if (stats.pending.events + stats.pending.sessions === 0 && stats.open_sessions === 0) break;
    }

    const clickhouse = createClickHouse(config.clickhouse);
    const [session] = await clickhouse.query<Record<string, unknown>>(
      "SELECT utm_source, utm_medium, utm_campaign, toString(channel) AS channel, referrer_host FROM sessions FINAL WHERE site = {site:String} AND visitor_id = {visitor:String}",
      { site: LOCAL_DEV_SITE, visitor },
    );
    expect(session).toEqual({
      utm_source: "newsletter",
      utm_medium: "email",
      utm_campaign: campaign,
      channel: "Email",
      referrer_host: "mail.google.com",
    });
    const events = await clickhouse.query<Record<string, unknown>>(
      "SELECT event_id, toString(channel) AS channel, utm_campaign FROM events WHERE site = {site:String} AND visitor_id = {visitor:String} ORDER BY event_id",
      { site: LOCAL_DEV_SITE, visitor },
    );
    // Per page view its own: the second page is internal navigation (Direct by itself).
    expect(events).toEqual([
      { event_id: "e1", channel: "Email", utm_campaign: campaign },
      { event_id: "e2", channel: "Direct", utm_campaign: "" },
      { event_id: "e3", channel: "", utm_campaign: "" },
    ]);

    const history = await exports.default.fetch(
      new Request(
        `http://collector.test/v1/history/campaigns?site=${LOCAL_DEV_SITE}&from=${ts - 60_000}&to=${ts + 60_000}&limit=100`,
        {
          headers: { Authorization: `Bearer ${LOCAL_DEV_ADMIN_TOKEN}` },
        },
      ),
    );
    const row = historyCampaignsSchema
      .parse(await history.json())
      .rows.find((candidate) => candidate.campaign === campaign);
    expect(row).toEqual({
      campaign,
      source: "newsletter",
      medium: "email",
      visitors: 1,
      sessions: 1,
      conversions: 1,
      conversion_rate: 1,
      revenue: 30,
    });
  });
});
