/** A small JSON request body, bounded and parsed with a zod schema: 400 naming what is wrong. */
import type { z } from "zod";
import { decodeUtf8, readBoundedBody } from "./bounded-body";
import { ApiError } from "./errors";

const MAX_JSON_BODY_BYTES = 16 * 1024;

export async function readJsonBody<T extends z.ZodType>(request: Request, schema: T): Promise<z.infer<T>> {
  const text = decodeUtf8(await readBoundedBody(request, MAX_JSON_BODY_BYTES));
  let json: unknown;
  try {
    json = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw ApiError.invalidPayload("the body must be JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw ApiError.fromZod(parsed.error);
  return parsed.data;
}
