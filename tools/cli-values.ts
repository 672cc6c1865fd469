/** Parsing of the command-line values the load generator and benchmarks take. */

/** `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a duration: "${text}" (try 500ms, 10s, 2m)`);
  const value = Number(match[1]);
  const unit = match[2] ?? "s";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000;
  return value * factor;
}

/** A positive number, or `max` / `inf` for unpaced → Infinity. */
export function parseRate(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === "max" || trimmed === "inf" || trimmed === "infinity") return Infinity;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`not a rate: "${text}" (a positive number, or max)`);
  return value;
}

/** A whole number in [min, max]. */
export function parseInteger(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`--${name} must be a whole number in [${min}, ${max}], got "${text}"`);
  return value;
}

/** A burst factor: `5` or `5x`. */
export function parseFactor(text: string): number {
  const value = Number(text.trim().replace(/x$/i, ""));
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`not a factor: "${text}" (e.g. 5 or 5x)`);
  return value;
}
