/**
 * The cookieless visitor id (docs/design.md, Privacy): HMAC-SHA256 keyed with VISITOR_SECRET over
 * (UTC day, site, IP, User-Agent), truncated. Including the day rotates the id every UTC
 * midnight, exactly as a secret rotated daily would, without storing keys; the site keeps ids
 * unlinkable across sites; the HMAC keeps them irreversible without the secret.
 *
 * The day is that of the batch's earliest event by the client's own clock (visitorDayOf), not
 * the receive time: a batch resent after midnight carries the same timestamps, so it derives
 * the same visitor, reaches the same shard, and that shard's batch-id dedup counts it once.
 */
import type { Batch } from "../protocol";
import { hmacSha256, toHex } from "../common/crypto";
import { utcDay } from "../common/utc-day";

/** 16 bytes (128 bits) of the MAC: collisions are negligible at any realistic traffic. */
const VISITOR_ID_BYTES = 16;

export interface VisitorIdInput {
  secret: string;
  site: string;
  ip: string;
  userAgent: string;
  /** A time (ms) on the UTC day the id belongs to: visitorDayOf(batch). */
  at: number;
}

/** The earliest event time of a batch as the client sent it: identical on every resend. */
export function visitorDayOf(batch: { events: ReadonlyArray<Pick<Batch["events"][number], "ts">> }): number {
  return Math.min(...batch.events.map((event) => event.ts));
}

export async function deriveVisitorId(input: VisitorIdInput): Promise<string> {
  // Newline-separated: none of the parts can contain a newline (headers cannot), so the
  // message is unambiguous.
  const message = [utcDay(input.at), input.site, input.ip, input.userAgent].join("\n");
  return `v-${toHex(await hmacSha256(input.secret, message), VISITOR_ID_BYTES)}`;
}
