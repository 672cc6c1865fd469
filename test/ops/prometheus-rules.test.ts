/**
 * ops/prometheus: the alerting rules are valid (`promtool check rules`), every alert has a
 * unit test, and those unit tests pass (`promtool test rules`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { promtool, requirePromtool } from "./promtool";

const RULES_DIR = join(import.meta.dirname, "../../ops/prometheus");
const files = readdirSync(RULES_DIR).filter((name) => name.endsWith(".yml"));
const testFiles = files.filter((name) => name.endsWith(".test.yml"));
const ruleFiles = files.filter((name) => !name.endsWith(".test.yml"));

/** `- alert: Name` lines; the YAML is ours and keeps one alert per line. */
function alertNames(text: string): string[] {
  return [...text.matchAll(/^\s*- alert:\s*(\S+)\s*$/gm)].map((match) => match[1] ?? "");
}

beforeAll(async () => {
  await requirePromtool();
});

describe("ops/prometheus rules", () => {
  it("has rule files and unit-test files", () => {
    expect(ruleFiles).toContain("edgepulse-rules.yml");
    expect(testFiles.length).toBeGreaterThan(0);
  });

  it("passes promtool check rules", async () => {
    const result = await promtool(["check", "rules", ...ruleFiles], { cwd: RULES_DIR });
    expect(result.output).toContain("SUCCESS");
    expect(result.exitCode, result.output).toBe(0);
  });

  it("unit-tests every alert", () => {
    const tested = new Set(
      testFiles.flatMap((name) =>
        [...readFileSync(join(RULES_DIR, name), "utf8").matchAll(/alertname:\s*(\S+)/g)].map((match) => match[1]),
      ),
    );
    const alerts = ruleFiles.flatMap((name) => alertNames(readFileSync(join(RULES_DIR, name), "utf8")));
    expect(alerts.length).toBeGreaterThan(5);
    expect(alerts.filter((alert) => !tested.has(alert))).toEqual([]);
  });

  it("passes promtool test rules", async () => {
    const result = await promtool(["test", "rules", ...testFiles], { cwd: RULES_DIR });
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain("SUCCESS");
  });
});
