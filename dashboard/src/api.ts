/**
 * Calls to the Worker's read API with the dashboard token. Every answer is validated with the
 * protocol's schema, and every failure becomes an ApiRequestError carrying the protocol's
 * error code and message, ready to show.
 */
import type { z } from "zod";
import { errorResponseSchema } from "../../protocol/responses";

export class ApiRequestError extends Error {
  override name = "ApiRequestError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function readAnswer<T>(response: Response, schema: z.ZodType<T>): Promise<T> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ApiRequestError(response.status, "invalid_answer", `the server answered ${response.status} without JSON`);
  }
  if (!response.ok) {
    const error = errorResponseSchema.safeParse(body);
    if (error.success) {
      const issues = error.data.error.issues?.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
      throw new ApiRequestError(
        response.status,
        error.data.error.code,
        issues ? `${error.data.error.message} (${issues})` : error.data.error.message,
      );
    }
    throw new ApiRequestError(response.status, "http_error", `the server answered ${response.status}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new ApiRequestError(response.status, "invalid_answer", "the server's answer does not match the protocol");
  return parsed.data;
}

function authorization(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** A query parameter; an array is repeated (`filter=…&filter=…`). */
export type QueryValue = string | number | readonly string[];

export async function apiGet<T>(
  path: string,
  params: Record<string, QueryValue>,
  schema: z.ZodType<T>,
  token: string,
  signal?: AbortSignal,
): Promise<T> {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params))
    if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, item);
    else url.searchParams.set(name, String(value));
  const response = await fetch(url, { headers: authorization(token), signal });
  return readAnswer(response, schema);
}

export async function apiPost<T>(
  path: string,
  body: unknown,
  schema: z.ZodType<T>,
  token: string,
  signal?: AbortSignal,
): Promise<T> {
  return apiSend("POST", path, body, schema, token, signal);
}

/** A write with an optional JSON body: the alert rules' POST / PUT, the site registry's POST / PATCH / DELETE. */
export async function apiSend<T>(
  method: "POST" | "PUT" | "PATCH" | "DELETE",
  path: string,
  body: unknown,
  schema: z.ZodType<T>,
  token: string,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = authorization(token);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(new URL(path, location.origin), {
    method,
    headers,
    signal,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return readAnswer(response, schema);
}

/** DELETE; resolves on 204, throws an ApiRequestError otherwise. */
export async function apiDelete(path: string, params: Record<string, string>, token: string): Promise<void> {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const response = await fetch(url, { method: "DELETE", headers: authorization(token) });
  if (response.status === 204) return;
  // Throws: with the error's code and message on a refusal, as a protocol mismatch on anything else.
  await readAnswer(response, errorResponseSchema);
  throw new ApiRequestError(response.status, "invalid_answer", `the server answered ${response.status} to a delete`);
}
