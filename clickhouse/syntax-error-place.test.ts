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

  it("answers no place for a message without one, unchanged", () => {
    const message = "Unknown table expression identifier 'nope'";
    expect(movedSyntaxErrorPlace(message, 10, 1)).toEqual({ message, place: null });
  });
});
