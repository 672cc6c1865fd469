/**
 * CSV (RFC 4180) for the SQL console's download. Text that a spreadsheet would run as a
 * formula (`=`, `+`, `-`, `@` first) gets a leading `'`: results hold visitor-controlled
 * text such as page titles. Numbers, and text that is a plain number, stay as they are.
 */
export type CsvCell = string | number | boolean | null | undefined | object;

const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

function cellText(cell: CsvCell): string {
  if (cell === null || cell === undefined) return "";
  if (typeof cell === "object") return JSON.stringify(cell);
  const text = String(cell);
  if (typeof cell === "string" && FORMULA_START.test(text) && !PLAIN_NUMBER.test(text)) return `'${text}`;
  return text;
}

function quote(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const lines = [header.map((name) => quote(cellText(name)))];
  for (const row of rows) lines.push(row.map((cell) => quote(cellText(cell))));
  return `${lines.map((cells) => cells.join(",")).join("\r\n")}\r\n`;
}
