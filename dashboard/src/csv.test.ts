import { describe, expect, it } from "vitest";
import { toCsv } from "./csv";

describe("toCsv", () => {
  it("quotes separators, quotes and newlines, and writes objects as JSON", () => {
    expect(
      toCsv(
        ["a", "b"],
        [
          ["x,y", 'say "hi"'],
          ["line\nbreak", null],
          [{ k: 1 }, 2],
        ],
      ),
    ).toBe('a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",\r\n"{""k"":1}",2\r\n');
  });

  it("defuses text a spreadsheet would run as a formula, but not negative numbers", () => {
    expect(toCsv(["v"], [['=HYPERLINK("x")'], ["@SUM(1)"], ["-12.5"], [-3]])).toBe(
      'v\r\n"\'=HYPERLINK(""x"")"\r\n\'@SUM(1)\r\n-12.5\r\n-3\r\n',
    );
  });
});
