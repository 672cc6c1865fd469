import { describe, expect, it } from "vitest";
import { formatPrometheusText } from "./prometheus-text";

describe("formatPrometheusText", () => {
  it("writes HELP, TYPE and one line per sample", () => {
    const text = formatPrometheusText([
      {
        name: "edgepulse_rejected_requests_total",
        help: "Requests refused, by error code.",
        type: "counter",
        samples: [
          { labels: { code: "invalid_payload" }, value: 3 },
          { labels: { code: "rate_limited" }, value: 0 },
        ],
      },
      {
        name: "edgepulse_flush_lag_seconds",
        help: "Age of the oldest unflushed event.",
        type: "gauge",
        samples: [{ labels: {}, value: 1.5 }],
      },
    ]);
    expect(text).toBe(
      [
        "# HELP edgepulse_rejected_requests_total Requests refused, by error code.",
        "# TYPE edgepulse_rejected_requests_total counter",
        'edgepulse_rejected_requests_total{code="invalid_payload"} 3',
        'edgepulse_rejected_requests_total{code="rate_limited"} 0',
        "# HELP edgepulse_flush_lag_seconds Age of the oldest unflushed event.",
        "# TYPE edgepulse_flush_lag_seconds gauge",
        "edgepulse_flush_lag_seconds 1.5",
        "",
      ].join("\n"),
    );
  });

  it("escapes label values and help text so a scrape cannot be broken", () => {
    const text = formatPrometheusText([
      {
        name: "m",
        help: "back\\slash\nnewline",
        type: "gauge",
        samples: [{ labels: { site: 'a"b\\c\nd' }, value: NaN }],
      },
    ]);
    expect(text).toContain("# HELP m back\\\\slash\\nnewline\n");
    expect(text).toContain('m{site="a\\"b\\\\c\\nd"} NaN\n');
  });

  it("refuses invalid metric and label names", () => {
    expect(() => formatPrometheusText([{ name: "bad-name", help: "", type: "gauge", samples: [] }])).toThrow();
    expect(() =>
      formatPrometheusText([
        { name: "ok", help: "", type: "gauge", samples: [{ labels: { "bad-label": "x" }, value: 1 }] },
      ]),
    ).toThrow();
  });
});
