import { describe, expect, it } from "vitest";
import { overviewSchema, performanceSchema, type VitalMetric } from "../../protocol";
import { mergeDayPartials, overviewOf, performanceOf } from "./day-merge";
import type { DayPartial } from "../shard-to-hub/shard-live-state";
import { exactQuantile, mulberry32 } from "../shared/quantile-fixture";
import { addToSketch, emptySketch, SKETCH_RELATIVE_ERROR, type QuantileSketch } from "../shared/quantile-sketch";
import { counts, dayPartial } from "../shard-to-hub/shard-state-fixture";

const DAY = "2026-11-20";

describe("mergeDayPartials", () => {
  it("sums counts, funnel, abandoned carts and products over shards of the same day", () => {
    const merged = mergeDayPartials(
      [
        dayPartial(DAY, {
          counts: counts({ page_views: 3, purchases: 1, revenue: 10.1, revenue_by_currency: { EUR: 10.1 } }),
          funnel: { sessions: 4, product_views: 3, cart_adds: 2, checkouts: 1, purchases: 1 },
          abandoned_carts: { sessions: 1, value: 5.5 },
          products: { "sku-1": { name: "Mug", views: 3, cart_adds: 1, purchases: 1, revenue: 10.1 } },
        }),
        dayPartial(DAY, {
          counts: counts({ page_views: 2, purchases: 1, revenue: 0.2, revenue_by_currency: { EUR: 0.2 } }),
          funnel: { sessions: 6, product_views: 1, cart_adds: 1, checkouts: 1, purchases: 1 },
          abandoned_carts: { sessions: 2, value: 1.25 },
          products: { "sku-1": { name: "Mug", views: 1, cart_adds: 0, purchases: 1, revenue: 0.2 } },
        }),
        dayPartial("2026-11-19", { counts: counts({ page_views: 1000 }) }),
      ],
      DAY,
    );
    const overview = overviewSchema.parse(overviewOf("s", merged, 3));
    expect(overview.totals).toMatchObject({
      page_views: 5,
      purchases: 2,
      revenue: 10.3,
      revenue_by_currency: { EUR: 10.3 },
    });
    expect(overview.funnel).toMatchObject({ sessions: 10, product_views: 4, cart_adds: 3, checkouts: 2, purchases: 2 });
    expect(overview.funnel.rates.overall).toBeCloseTo(0.2);
    expect(overview.abandoned_carts).toEqual({ sessions: 3, value: 6.75 });
    expect(overview.top_products).toEqual([
      { product_id: "sku-1", name: "Mug", views: 4, cart_adds: 1, purchases: 2, revenue: 10.3 },
    ]);
  });

  it("ranks summed pages and referrers and caps every top list at 50", () => {
    const shards: DayPartial[] = [0, 1].map((shard) =>
      dayPartial(DAY, {
        pages: Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`/p/${index}`, index + shard])),
        referrers: Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`r${index}.example`, 1])),
        products: Object.fromEntries(
          Array.from({ length: 100 }, (_, index) => [
            `sku-${index}`,
            { name: `P${index}`, views: 1, cart_adds: 0, purchases: index, revenue: index },
          ]),
        ),
      }),
    );
    const overview = overviewSchema.parse(overviewOf("s", mergeDayPartials(shards, DAY), 0));
    expect(overview.top_pages).toHaveLength(50);
    expect(overview.top_pages[0]).toEqual({ path: "/p/99", views: 99 + 100 });
    expect(overview.top_referrers).toHaveLength(50);
    // Ties rank by key, so every reader of the same state sees the same list.
    expect(overview.top_referrers[0]).toEqual({ host: "r0.example", visits: 2 });
    expect(overview.top_products[0]?.product_id).toBe("sku-99");
  });

  it("reports each page's p75 from the merged shard sketches within the sketch's relative error", () => {
    const random = mulberry32(11);
    const shardCount = 8;
    const exact = new Map<string, Map<VitalMetric, number[]>>();
    const partials = Array.from({ length: shardCount }, () => dayPartial(DAY));
    const pages = ["/", "/p/1", "/checkout"];
    const metrics: [VitalMetric, number, number][] = [
      ["LCP", 2200, 0.6],
      ["INP", 180, 0.8],
      ["CLS", 0.05, 1.2],
      ["TTFB", 400, 0.5],
    ];
    for (let i = 0; i < 30_000; i++) {
      const page = pages[i % pages.length] ?? "/";
      const [metric, median, spread] = metrics[Math.floor(random() * metrics.length)] ?? metrics[0]!;
      const normal = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
      // CLS is often exactly 0; the sketch keeps zeros apart.
      const value = metric === "CLS" && random() < 0.3 ? 0 : Math.exp(Math.log(median) + spread * normal);
      const shard = partials[Math.floor(random() * shardCount)]!;
      const pageSketches = (shard.vitals[page] ??= {});
      const sketch: QuantileSketch = (pageSketches[metric] ??= emptySketch());
      addToSketch(sketch, value);
      const byMetric = exact.get(page) ?? new Map<VitalMetric, number[]>();
      exact.set(page, byMetric);
      const values = byMetric.get(metric) ?? [];
      byMetric.set(metric, values);
      values.push(value);
    }
    const performance = performanceSchema.parse(performanceOf("s", mergeDayPartials(partials, DAY)));
    expect(performance.relative_error).toBe(SKETCH_RELATIVE_ERROR);
    expect(performance.pages.map((page) => page.path).sort()).toEqual([...pages].sort());
    let worst = 0;
    for (const page of performance.pages) {
      for (const [metric, summary] of Object.entries(page.vitals)) {
        const values = exact.get(page.path)?.get(metric as VitalMetric) ?? [];
        expect(summary?.count).toBe(values.length);
        const truth = exactQuantile(values, 0.75);
        const error =
          truth === 0 ? Math.abs(summary?.p75 ?? Number.NaN) : Math.abs((summary?.p75 ?? Number.NaN) - truth) / truth;
        worst = Math.max(worst, error);
      }
    }
    expect(worst).toBeLessThanOrEqual(SKETCH_RELATIVE_ERROR);
    console.log(
      `hub-level p75 worst relative error over ${pages.length} pages × ${metrics.length} vitals, ${shardCount} shards: ${(worst * 100).toFixed(3)}%`,
    );
  });
});
