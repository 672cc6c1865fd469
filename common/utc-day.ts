/**
 * The UTC day `YYYY-MM-DD` of a time in ms: the day a visitor id belongs to (worker/visitor-id.ts),
 * a shard's day accumulator and the key of the DayPartial it sends to the hub.
 */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
