/**
 * One error class for every answer that is not a success, and one handler that turns any
 * thrown value into the protocol's JSON error shape. Bad input is always a 4xx; only a
 * fault of ours is a 5xx, and it never echoes internals.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { type ErrorCode, type ErrorIssue, errorBody } from "../protocol";
import { recordRejection } from "./refusal-counter";

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ErrorIssue[],
    /** Seconds, for 429 and 503. */
    readonly retryAfterSeconds?: number,
    /** For a query ClickHouse refused: its error code name, shown to the client. */
    readonly clickhouseError?: string,
  ) {
    super(message);
  }

  static invalidPayload(message: string, issues?: ErrorIssue[]): ApiError {
    return new ApiError(400, "invalid_payload", message, issues);
  }

  /** Turns a zod error into a 400 naming each failing path (`events.3.price`). */
  static fromZod(error: z.ZodError, message = "the request does not match the schema"): ApiError {
    const issues = error.issues.slice(0, 20).map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.message,
    }));
    return ApiError.invalidPayload(message, issues);
  }
}

/** `app.onError`: the one place a thrown value becomes an HTTP answer. */
export function handleError(error: unknown, c: Context): Response {
  if (error instanceof ApiError) {
    recordRejection(c, error.code);
    if (error.retryAfterSeconds !== undefined) c.header("Retry-After", String(Math.ceil(error.retryAfterSeconds)));
    return c.json(errorBody(error.code, error.message, error.issues, error.clickhouseError), error.status);
  }
  console.error("unhandled error", error);
  recordRejection(c, "internal");
  return c.json(errorBody("internal", "internal error"), 500);
}
