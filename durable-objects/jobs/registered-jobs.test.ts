import { describe, expect, it } from "vitest";
import { DAY_RECORD_JOBS } from "./day-records";
import { DAY_JOBS, WINDOW_JOBS } from "./job-maps";
import { AGGREGATION_JOBS } from "./registered-jobs";

const unique = (values: string[]) => new Set(values).size === values.length;

describe("registered jobs", () => {
  it("have unique names, stored maps per scope and day-row fields, so no two mix their state", () => {
    expect(unique(AGGREGATION_JOBS.map((job) => job.name))).toBe(true);
    expect(unique(WINDOW_JOBS.map(({ state }) => state.storedMap))).toBe(true);
    expect(unique(DAY_JOBS.map(({ state }) => state.storedMap))).toBe(true);
    expect(unique(DAY_RECORD_JOBS.map((state) => state.rowField))).toBe(true);
    // A day row's fields besides the counters are the records': never a field the row itself uses.
    for (const state of DAY_RECORD_JOBS) expect(["day", "counters"]).not.toContain(state.rowField);
  });

  it("are merged by the hub wherever the shard reports them, and only there", () => {
    for (const job of AGGREGATION_JOBS) {
      const reportsDay = job.day?.report !== undefined || job.dayRecord !== undefined;
      expect({ job: job.name, merged: job.mergeDays !== undefined }).toEqual({ job: job.name, merged: reportsDay });
      const reportsWindow = job.window?.report !== undefined;
      expect({ job: job.name, merged: job.mergeWindows !== undefined }).toEqual({
        job: job.name,
        merged: reportsWindow,
      });
    }
  });

  it("keep the built-in names older state was stored under", () => {
    expect(DAY_JOBS.map(({ state }) => state.storedMap)).toEqual([
      "pages",
      "referrers",
      "products",
      "vitals",
      "job:custom_events",
      "job:sessions_by_channel",
    ]);
    expect(WINDOW_JOBS.map(({ state }) => state.storedMap)).toEqual([
      "pages",
      "products",
      "vitals",
      "job:custom_events",
      "job:sessions_by_channel",
    ]);
    expect(DAY_RECORD_JOBS.map((state) => state.rowField)).toEqual(["funnel", "abandoned"]);
  });
});
