import { describe, expect, it } from "vitest";
import { movedSyntaxErrorPlace } from "./syntax-error-place";

describe("movedSyntaxErrorPlace", () => {
  it("moves the position and the line back, and leaves the column", () => {
    const message = "Syntax error: failed at position 114 (events) (line 4, col 13): events WHERE";
    expect(movedSyntaxErrorPlace(message, 88, 2)).toEqual({
      message: "Syntax error: failed at position 26 (events) (line 2, col 13): events WHERE",
      place: { line: 2, column: 13 },
    });
  });

  it("moves forward for negative numbers, and the column on the line the parsed text began on", () => {
    const message = "Syntax error: failed at position 12 (FORM) (line 1, col 12): FORM";
    expect(movedSyntaxErrorPlace(message, -5, -2, { line: 3, columns: 4 })).toEqual({
      message: "Syntax error: failed at position 17 (FORM) (line 3, col 16): FORM",
      place: { line: 3, column: 16 },
    });
    const later = "Syntax error: failed at position 40 (x) (line 2, col 3): x";
    expect(movedSyntaxErrorPlace(later, -5, -2, { line: 3, columns: 4 }).place).toEqual({ line: 4, column: 3 });
  });

  it("answers no place for a message without one, unchanged", () => {
    const message = "Unknown table expression identifier 'nope'";
    expect(movedSyntaxErrorPlace(message, 10, 1)).toEqual({ message, place: null });
  });
});
