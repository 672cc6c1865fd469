/** Every answer of the HTTP API has one of these shapes; errors share one envelope. */
import { z } from "zod";

export const acceptedResponseSchema = z.object({
  accepted: z.number().int().min(0),
  duplicate: z.boolean(),
  /**
   * "bot": the User-Agent is a crawler's or a headless browser's (worker/bot-filter.ts); the
   * batch was answered like an accepted one, so the client does not retry, but nothing was
   * stored (accepted is 0). Absent on every other answer.
   */
  ignored: z.literal("bot").optional(),
});
export type AcceptedResponse = z.infer<typeof acceptedResponseSchema>;

export const errorCodeSchema = z.enum([
  "invalid_payload",
  "unsupported_media_type",
  "payload_too_large",
  "request_timeout",
  "batch_conflict",
  "unknown_site",
  "origin_not_allowed",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "method_not_allowed",
  /** 426: a WebSocket route asked without `Upgrade: websocket`. */
  "upgrade_required",
  "rate_limited",
  "overloaded",
  "query_failed",
  "unavailable",
  "internal",
]);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const errorIssueSchema = z.object({
  path: z.string(),
  message: z.string(),
});
export type ErrorIssue = z.infer<typeof errorIssueSchema>;

export const errorResponseSchema = z.object({
  error: z.object({
    code: errorCodeSchema,
    message: z.string(),
    issues: z.array(errorIssueSchema).optional(),
    /** For a query ClickHouse refused: its error code name (e.g. `UNKNOWN_IDENTIFIER`). */
    clickhouse_error: z.string().optional(),
  }),
});
export type ErrorResponse = z.infer<typeof errorResponseSchema>;

/** The error envelope every refusal answers with, from the Worker and from the Durable Objects. */
export function errorBody(
  code: ErrorCode,
  message: string,
  issues?: ErrorIssue[],
  clickhouseError?: string,
): ErrorResponse {
  return {
    error: {
      code,
      message,
      ...(issues && issues.length > 0 ? { issues } : {}),
      ...(clickhouseError === undefined ? {} : { clickhouse_error: clickhouseError }),
    },
  };
}
