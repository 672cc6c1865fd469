/**
 * ClickHouse places a syntax error as "failed at position P (…) (line L, col C)", counted in
 * the statement it parsed. Where that statement wraps the text someone wrote (the local
 * engine's kill tag, the SQL console's EXPLAIN), the place is moved back into that text.
 */

/**
 * `message` with its position moved `characters` back and its line `lines` back (never below
 * 1; negative numbers move forward); `place` is the line and column after the move, or null
 * when the message names none. `firstLine` moves columns too, on one line after the move: the
 * parsed text began that many columns into it (the wrapper dropped the indent before it).
 */
export function movedSyntaxErrorPlace(
  message: string,
  characters: number,
  lines: number,
  firstLine: { line: number; columns: number } = { line: 0, columns: 0 },
): { message: string; place: { line: number; column: number } | null } {
  let place: { line: number; column: number } | null = null;
  const moved = message
    .replace(/failed at position (\d+)/, (_, position: string) => {
      return `failed at position ${Math.max(1, Number(position) - characters)}`;
    })
    .replace(/\(line (\d+), col (\d+)\)/, (_, line: string, column: string) => {
      const movedLine = Math.max(1, Number(line) - lines);
      place = { line: movedLine, column: Number(column) + (movedLine === firstLine.line ? firstLine.columns : 0) };
      return `(line ${place.line}, col ${place.column})`;
    });
  return { message: moved, place };
}
