/**
 * `npm run sites` end to end: the CLI against the real stack (wrangler dev, real Durable
 * Objects, the embedded ClickHouse). Every verb, and a deleted site's rows gone from ClickHouse.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack";

const TSX = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url));
const CLI = fileURLToPath(new URL("../../tools/sites-cli.ts", import.meta.url));
const SITE = `cli-${Date.now().toString(36)}`;
const ORIGIN = "https://shop.example";

let stack: Stack;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  env: Record<string, string> = { EDGEPULSE_ADMIN_TOKEN: stack.adminToken },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, CLI, ...args, "--url", stack.collectorUrl], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

function secretIn(output: string): string {
  const match = /\bep_[A-Za-z0-9_-]{43}\b/.exec(output);
  if (match === null) throw new Error(`no token in:\n${output}`);
  return match[0];
}

async function overviewStatus(token: string): Promise<number> {
  const response = await fetch(`${stack.collectorUrl}/v1/metrics/overview?site=${SITE}`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

/** Polls until the token is refused; answers how long that took. */
async function refusedWithin(token: string, limitMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if ((await overviewStatus(token)) === 403) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`token still accepted after ${limitMs} ms`);
}

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe("npm run sites", () => {
  let token = "";

  it("add creates the site and prints its token and script tag", async () => {
    const result = await cli(["add", SITE, "--origin", ORIGIN, "--time-zone", "Europe/Berlin"]);
    expect(result.code, result.stderr).toBe(0);
    token = secretIn(result.stdout);
    expect(result.stdout).toContain(`<script defer src="${stack.collectorUrl}/ep.js" data-site="${SITE}"></script>`);
    expect(await overviewStatus(token)).toBe(200);

    const again = await cli(["add", SITE, "--origin", ORIGIN]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("conflict (409)");
  });

  it("list shows the seed and the new site", async () => {
    const result = await cli(["list"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^demo\tconfig\t/m);
    expect(result.stdout).toContain(`${SITE}\tregistry\tEurope/Berlin\t${ORIGIN}`);
  });

  it("the site ingests from its origin at once, and its rows reach ClickHouse", async () => {
    const now = Date.now();
    const events = [1, 2, 3].map((index) => ({
      type: "page_view",
      id: `e${index}`,
      ts: now - index,
      url: `${ORIGIN}/p/${index}`,
    }));
    const response = await fetch(`${stack.collectorUrl}/v1/events`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", Origin: ORIGIN },
      body: JSON.stringify({ v: 1, site: SITE, batch: `b-${SITE}`, sent_at: now, events }),
    });
    expect(response.status, await response.text()).toBe(202);
    await stack.waitForRows("SELECT count() FROM events WHERE site = {site:String}", { site: SITE }, 3, 45_000);
  });

  it("export writes the raw events as CSV", async () => {
    const result = await cli(["export", SITE, "--format", "csv"]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toContain('"event_id"');
  });

  it("rotate replaces the token (the old one refused within 10 s); revoke refuses the new one", async () => {
    const rotated = await cli(["rotate", SITE]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const next = secretIn(rotated.stdout);
    expect(next).not.toBe(token);
    expect(await refusedWithin(token, 10_000)).toBeLessThan(10_000);
    expect(await overviewStatus(next)).toBe(200);

    const listed = await cli(["tokens", SITE]);
    const active = listed.stdout.split("\n").filter((line) => line.includes("\tactive\t"));
    expect(active).toHaveLength(1);
    const id = active[0]?.split("\t")[0] ?? "";
    expect(listed.stdout).not.toContain(next);

    const revoked = await cli(["revoke", SITE, "--token", id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(await refusedWithin(next, 10_000)).toBeLessThan(10_000);
  });

  it("delete needs --yes, then removes the site and its rows in ClickHouse and says so", async () => {
    const refused = await cli(["delete", SITE]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");

    const result = await cli(["delete", SITE, "--yes"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`site ${SITE} deleted`);
    expect(result.stdout).toMatch(/events [3-9]/);
    expect(
      await stack.waitForRows("SELECT count() FROM events WHERE site = {site:String}", { site: SITE }, 0, 5_000),
    ).toBe(0);
    expect(
      await stack.waitForRows(
        "SELECT count() FROM window_metrics WHERE site = {site:String}",
        { site: SITE },
        0,
        5_000,
      ),
    ).toBe(0);

    const list = await cli(["list"]);
    expect(list.stdout).not.toContain(SITE);
  });

  it("refuses without the admin token, and with a wrong one", async () => {
    const missing = await cli(["list"], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("EDGEPULSE_ADMIN_TOKEN");
    const wrong = await cli(["list"], { EDGEPULSE_ADMIN_TOKEN: "not-the-admin-token" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("forbidden (403)");
  });
});
