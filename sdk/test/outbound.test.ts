/**
 * The outbound-link and file-download add-on (ep.outbound.js, its own script tag beside
 * ep.js) in real Chromium: a file link and a `download` link send `download`, a link to
 * another host sends `outbound` even though the page is left at once, and links inside the
 * site or to mail send nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { launchChromium, waitFor } from "./browser";
import { startFixtureServer, type FixtureServer } from "./fixture-server";
import { startRecordingCollector, type RecordingCollector } from "./recording-collector";

let browser: Browser;
let collector: RecordingCollector;
let fixtures: FixtureServer;

beforeAll(async () => {
  collector = await startRecordingCollector();
  fixtures = await startFixtureServer(collector.origin);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await collector?.close();
  await fixtures?.close();
});

const customEvents = () =>
  collector.counted().flatMap((event) => (event.type === "custom" ? [{ name: event.name, props: event.props }] : []));

describe("ep.outbound.js in Chromium", () => {
  it("sends download and outbound events for the links that leave or fetch a file, and nothing else", async () => {
    const page = await browser.newPage();
    await page.goto(`${fixtures.origin}/outbound.html`);
    await waitFor("the page view", () => collector.counted().some((event) => event.type === "page_view"));
    await page.click("#inside");
    await page.click("#mail").catch(() => undefined);
    // A click on text inside the link counts for the link.
    await page.click("#file span");
    await page.click("#named", { button: "middle" });
    await waitFor("two downloads", () => customEvents().length >= 2);
    const outboundUrl = `${fixtures.origin.replace("127.0.0.1", "localhost")}/blank.html`;
    await page.click("#out");
    await page.waitForURL(outboundUrl);
    await waitFor("the outbound click, sent as the page was left", () => customEvents().length >= 3);

    expect(customEvents()).toEqual([
      { name: "download", props: { file: `${fixtures.origin}/files/price-list.pdf` } },
      { name: "download", props: { file: `${fixtures.origin}/export?format=csv` } },
      { name: "outbound", props: { url: outboundUrl } },
    ]);
    expect(collector.invalid).toEqual([]);
    await page.close();
  });
});
