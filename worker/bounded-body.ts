/**
 * Reads a request body as a stream and stops at a byte limit, so an oversize or endless
 * body costs at most `maxBytes` of memory. A declared Content-Length over the limit is
 * refused before a byte is read; chunked bodies are counted as they arrive.
 */
import { ApiError } from "./errors";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, "payload_too_large", `the body is larger than ${maxBytes} bytes`);
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
      // Stop the sender instead of draining the rest of its body.
      await reader.cancel().catch(() => undefined);
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
