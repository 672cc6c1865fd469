/**
 * The vitals add-on (ep.vitals.js, loaded by ep.js through data-vitals) against the web-vitals
 * library on the same page in real Chromium: same metrics, same values, for the load and for a
 * back/forward-cache restore. The fixture has a late large text (LCP), two unexpected layout
 * shifts (CLS) and a click with a 150 ms handler (INP).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium, waitFor } from "./browser";
import { startFixtureServer, type FixtureServer } from "./fixture-server";
import { startRecordingCollector, type RecordingCollector } from "./recording-collector";

let browser: Browser;
let collector: RecordingCollector;
let fixtures: FixtureServer;

beforeAll(async () => {
  collector = await startRecordingCollector();
  fixtures = await startFixtureServer(collector.origin);
  browser = await launchChromium({ backForwardCache: true });
});
afterAll(async () => {
  await browser?.close();
  await collector?.close();
  await fixtures?.close();
});

interface Reported {
  name: string;
  value: number;
  url?: string;
}

const METRICS = ["CLS", "FCP", "INP", "LCP", "TTFB"];

/** What web-vitals reported, by navigation type ("navigate" or "back-forward-cache"). */
const reference = (navigationType: string): Reported[] =>
  collector.beacons
    .map((beacon) => JSON.parse(beacon.body) as Reported & { navigationType: string })
    .filter((metric) => metric.navigationType === navigationType)
    .map(({ name, value }) => ({ name, value }));

/** What the SDK sent as vital events, in order. */
const ours = (): Reported[] =>
  collector
    .counted()
    .flatMap((event) => (event.type === "vital" ? [{ name: event.metric, value: event.value, url: event.url }] : []));

const byName = (metrics: Reported[]) => Object.fromEntries(metrics.map((metric) => [metric.name, metric.value]));

const leave = async (page: Page) => {
  await page.click("#leave");
  await page.waitForURL(/blank\.html$/);
};

describe("ep.vitals.js in Chromium, against web-vitals", () => {
  it("reports the same five metrics with the same values, for the load and after a bfcache restore", async () => {
    expect(collector.invalid).toEqual([]);
    const context = await browser.newContext();
    const page = await context.newPage();
    const url = `${fixtures.origin}/vitals.html`;
    await page.goto(url);
    await waitFor("the fixture's paints and shifts", () =>
      page.evaluate(() => (window as unknown as { fixtureSettled?: boolean }).fixtureSettled),
    );
    await page.click("#slow");
    await leave(page);
    await waitFor("web-vitals' final values", () => reference("navigate").length === 5);
    await waitFor("the SDK's final values", () => ours().length === 5);

    const expected = byName(reference("navigate"));
    const measured = byName(ours());
    expect(Object.keys(measured).sort()).toEqual(METRICS);
    expect(Object.keys(expected).sort()).toEqual(METRICS);
    // Both read the same performance entries: equal up to float noise.
    for (const metric of METRICS)
      expect(Math.abs(measured[metric]! - expected[metric]!), metric).toBeLessThanOrEqual(metric === "CLS" ? 1e-6 : 1);
    expect(measured.CLS).toBeGreaterThan(0);
    expect(measured.INP).toBeGreaterThanOrEqual(150);
    expect(measured.LCP).toBeGreaterThan(measured.FCP!);
    expect(new Set(ours().map((metric) => metric.url))).toEqual(new Set([url]));

    // Back: the page comes from the back/forward cache, a new page view for both libraries.
    await page.goBack({ waitUntil: "commit" });
    await waitFor("web-vitals' restore values", () => reference("back-forward-cache").length === 3);
    await leave(page);
    await waitFor("web-vitals' final restore values", () => reference("back-forward-cache").length === 5);
    await waitFor("the SDK's restore values", () => ours().length === 10);
    const restoredExpected = byName(reference("back-forward-cache"));
    const restored = byName(ours().slice(5));
    expect(Object.keys(restored).sort()).toEqual(METRICS);
    expect(restored.TTFB).toBe(0);
    expect(restored.CLS).toBe(restoredExpected.CLS);
    // The click on "leave" was an interaction too short to observe: both say one frame.
    expect(restored.INP).toBe(restoredExpected.INP);
    // FCP and LCP after a restore are the time to the next frames after pageshow; each library
    // waits for its own two animation frames, so they agree within a few frames, not exactly.
    for (const metric of ["FCP", "LCP"])
      expect(Math.abs(restored[metric]! - restoredExpected[metric]!), metric).toBeLessThanOrEqual(50);
    // The restore also counted as a page view.
    expect(collector.counted().filter((event) => event.type === "page_view")).toHaveLength(2);
    expect(collector.invalid).toEqual([]);
    await context.close();
  });
});
