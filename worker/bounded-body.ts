/**
 * Reads a request body as a stream and stops at a byte limit, so an oversize or endless
 * body costs at most `maxBytes` of memory. A declared Content-Length over the limit is
 * refused before a byte is read; chunked bodies are counted as they arrive.
 */
import { ApiError } from "./errors";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, "payload_too_large", `the body is larger than ${maxBytes} bytes`);
}

/** How far past the limit an oversize body is still read (and discarded) before the 413. */
const DRAIN_FACTOR = 32;

/** Reads and discards until the stream ends or `limit` bytes were seen in all; cancels past that. */
async function drainUpTo(reader: ReadableStreamDefaultReader<Uint8Array>, seen: number, limit: number): Promise<void> {
  let total = seen;
  while (total <= limit) {
    const { done, value } = await reader.read();
    if (done) return;
    total += value.byteLength;
  }
  await reader.cancel().catch(() => undefined);
}

export async function readBoundedBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return new Uint8Array(0);

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // A body up to DRAIN_FACTOR × the limit (2 MiB for events) is read to its end and
      // discarded, so the connection stays usable: cancelling mid-body resets it, and under
      // wrangler dev that turned this 413, and other requests in flight on the connection, into
      // 500s (found by test/e2e/hostile-input.test.ts and, for a 1 MiB chunked body, by
      // test/e2e/ingest.test.ts). Draining costs no memory. Anything longer is cut off: the
      // sender is stopped instead of drained.
      await drainUpTo(reader, total, DRAIN_FACTOR * maxBytes);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Decodes UTF-8 strictly: invalid byte sequences are a client error, not replacement characters. */
export function decodeUtf8(body: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw ApiError.invalidPayload("the body is not valid UTF-8");
  }
}
