/**
 * Where an INSERT's data starts, and how it reaches the engine without being re-encoded.
 *
 * clickhouse-server reads `INSERT INTO t FORMAT X` and then hands the rest of the request
 * to the format's parser as bytes. The embedded engine takes SQL as a C string, so bytes
 * appended to SQL text would be cut at the first NUL and mangled by UTF-8 decoding: the
 * data must travel beside the SQL, never inside it. {@link planInsert} finds the statement
 * and its data as bytes; the engine then passes the data through untouched.
 */

/** `INSERT INTO [TABLE] [db.]table [(a, b)] [SETTINGS …] FORMAT X`: the shape clients send for bulk inserts. */
const INSERT_WITH_FORMAT =
  /^\s*INSERT\s+INTO\s+(?:TABLE\s+)?((?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*))?)\s*(\([^()]*\))?\s*(SETTINGS\s+[^;]*?\s+)?FORMAT\s+([A-Za-z][A-Za-z0-9_]*)/i;

export interface InsertPlan {
  /** The target as written (`db.table`, possibly back-quoted). */
  table: string;
  /** `(a, b)` as written, or empty. */
  columns: string;
  /** `SETTINGS …` as written, or empty. */
  settings: string;
  format: string;
  /** The rows, exactly the bytes the client sent. */
  data: Buffer;
}

/**
 * The statement and its data when `sql` is an INSERT with a FORMAT clause and nothing
 * after the format name; `data` is the request body that followed it.
 */
export function planInsertFromUrl(sql: string, data: Buffer): InsertPlan | null {
  const match = INSERT_WITH_FORMAT.exec(sql);
  if (match === null || sql.slice(match[0].length).trim() !== "") return null;
  return toPlan(match, data);
}

/**
 * The statement and its data when the whole body is `INSERT … FORMAT X<data>`. As in
 * clickhouse-server's parser, the data starts after the first newline following the
 * format name, or after the whitespace if no newline comes first.
 */
export function planInsertFromBody(body: Buffer): InsertPlan | null {
  // latin1 maps every byte to one UTF-16 unit, so offsets in this text are byte offsets.
  const head = body.subarray(0, 64 * 1024).toString("latin1");
  const match = INSERT_WITH_FORMAT.exec(head);
  if (match === null) return null;
  let offset = match[0].length;
  const next = head[offset];
  if (next !== undefined && !/\s/.test(next)) return null;
  while (offset < head.length && (head[offset] === " " || head[offset] === "\t" || head[offset] === "\r")) offset += 1;
  if (head[offset] === "\n") offset += 1;
  else while (offset < head.length && /\s/.test(head[offset] ?? "")) offset += 1;
  // The statement itself is text: decode it as UTF-8 (back-quoted names may hold any character).
  const statement = body.subarray(0, match[0].length).toString("utf8");
  const reparsed = INSERT_WITH_FORMAT.exec(statement);
  if (reparsed === null) return null;
  return toPlan(reparsed, body.subarray(offset));
}

function toPlan(match: RegExpExecArray, data: Buffer): InsertPlan {
  return { table: match[1] ?? "", columns: match[2] ?? "", settings: match[3] ?? "", format: match[4] ?? "", data };
}

/** True when `data` can be appended to SQL text without changing a byte: valid UTF-8 and no NUL. */
export function isSafeAsSqlText(data: Buffer): boolean {
  if (data.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}
