import { describe, expect, it } from "vitest";
import { childOf, formatTraceparent, newSpanId, newTraceId, parseTraceparent } from "./trace-context";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

describe("parseTraceparent", () => {
  it("reads the W3C example, sampled or not", () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: false });
    // Other flag bits do not matter; only bit 0 is "sampled".
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled).toBe(true);
  });

  it("accepts a future version with more fields", () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-extra`)?.traceId).toBe(TRACE);
  });

  it.each([
    ["absent", undefined],
    ["empty", ""],
    ["garbage", "not a traceparent"],
    ["upper case", `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ["short trace id", `00-${TRACE.slice(1)}-${SPAN}-01`],
    ["zero trace id", `00-${"0".repeat(32)}-${SPAN}-01`],
    ["zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["version ff", `ff-${TRACE}-${SPAN}-01`],
    ["version 00 with extra field", `00-${TRACE}-${SPAN}-01-extra`],
    ["huge", `00-${TRACE}-${SPAN}-01-${"x".repeat(1000)}`],
  ])("ignores a %s header", (_, header) => {
    expect(parseTraceparent(header)).toBeNull();
  });

  it("round-trips what it formats", () => {
    const context = { traceId: newTraceId(), spanId: newSpanId(), sampled: true };
    expect(parseTraceparent(formatTraceparent(context))).toEqual(context);
    expect(formatTraceparent({ ...context, sampled: false })).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it("gives a child the parent's trace and decision, and an id of its own", () => {
    const parent = { traceId: TRACE, spanId: SPAN, sampled: false };
    const child = childOf(parent);
    expect(child.traceId).toBe(TRACE);
    expect(child.sampled).toBe(false);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(SPAN);
  });
});
