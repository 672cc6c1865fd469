/**
 * Day buckets in the site's time zone. A timeseries bucket of whole days starts at the site's
 * local midnight (ClickHouse `toStartOfDay(t, zone)`, DST-aware: Europe/Berlin's last Sunday
 * of October is 25 hours long), while the rollups are epoch-aligned (a daily period is a UTC
 * day). So a day-bucketed timeseries may use a rollup grain only when each of its periods
 * falls inside one local day: the daily grain only in UTC, the hourly grain only in zones
 * whose offset is a whole number of hours; minute periods always fit. Top lists and totals
 * add periods up over the range and do not care where a day starts.
 */

const DAY_SECONDS = 86_400;
const HOUR_SECONDS = 3_600;

/** True for buckets of whole days, which follow the site's zone; shorter ones stay epoch-aligned. */
export const isDayInterval = (intervalSeconds: number): boolean =>
  intervalSeconds >= DAY_SECONDS && intervalSeconds % DAY_SECONDS === 0;

/** The zone's offset from UTC at `ms`, in minutes (`GMT+05:30` → 330). */
export function utcOffsetMinutes(timeZone: string, ms: number): number {
  const name =
    new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
      .formatToParts(ms)
      .find((part) => part.type === "timeZoneName")?.value ?? "GMT";
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (match === null) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return match[1] === "-" ? -minutes : minutes;
}

/**
 * The rollup grains (seconds) a timeseries over [from, to) in `timeZone` may read, from
 * those that divide its interval. Offsets are checked at both ends of the range: every zone
 * that changes its offset by a fraction of an hour also has a fractional offset on one side.
 */
export function grainsForZone(
  grains: readonly number[],
  intervalSeconds: number,
  timeZone: string,
  from: number,
  to: number,
): number[] {
  if (!isDayInterval(intervalSeconds) || timeZone === "UTC") return [...grains];
  const wholeHours = [from, to].every((ms) => utcOffsetMinutes(timeZone, ms) % 60 === 0);
  return grains.filter((grain) => grain < DAY_SECONDS && (wholeHours || grain < HOUR_SECONDS));
}

/**
 * SQL for the start (ms since the epoch) of the bucket holding `moment`, a DateTime or
 * DateTime64 expression. The query takes `{interval:UInt32}` and `{time_zone:String}`.
 */
export function bucketStartSql(intervalSeconds: number, moment: string): string {
  if (!isDayInterval(intervalSeconds))
    return `toInt64(intDiv(toUnixTimestamp(${moment}), {interval:UInt32}) * {interval:UInt32}) * 1000`;
  if (intervalSeconds === DAY_SECONDS)
    return `toInt64(toUnixTimestamp(toStartOfDay(${moment}, {time_zone:String}))) * 1000`;
  // Several days: counted in local days since 1970-01-01, as toStartOfInterval does.
  return `toInt64(toUnixTimestamp(toStartOfInterval(toDateTime(${moment}, {time_zone:String}), toIntervalDay(intDiv({interval:UInt32}, 86400)), {time_zone:String}))) * 1000`;
}
