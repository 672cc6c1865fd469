/**
 * The request body as the engine needs it: bounded on the wire, decompressed per
 * `Content-Encoding` (as clickhouse-server accepts gzip, deflate, br and zstd bodies), and
 * bounded again after decompression, so a small compressed body cannot expand into more
 * memory than an uncompressed one may take.
 */
import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { ServerException } from "./server-exception";

type Decompress = (buffer: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>;

const DECOMPRESSORS: ReadonlyMap<string, Decompress> = new Map<string, Decompress>([
  ["gzip", promisify(zlib.gunzip)],
  ["x-gzip", promisify(zlib.gunzip)],
  ["deflate", promisify(zlib.inflate)],
  ["br", promisify(zlib.brotliDecompress)],
  ...(typeof zlib.zstdDecompress === "function"
    ? [["zstd", promisify(zlib.zstdDecompress)] as [string, Decompress]]
    : []),
]);

/** Reads the body up to `limit` bytes; beyond that answers 413 without buffering the rest. */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    // Let the rest arrive into the void so the client reads the 413 instead of a reset.
    request.resume();
    return Promise.reject(bodyTooLarge(limit));
  }
  return new Promise((resolveBody, rejectBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.byteLength;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        rejectBody(bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (!refused) resolveBody(Buffer.concat(chunks, size));
    });
    request.on("error", rejectBody);
  });
}

/** Undoes `Content-Encoding` (a comma-separated list, applied in order), refusing output beyond `limit`. */
export async function decodeBody(body: Buffer, contentEncoding: string | undefined, limit: number): Promise<Buffer> {
  const encodings = (contentEncoding ?? "")
    .split(",")
    .map((encoding) => encoding.trim().toLowerCase())
    .filter((encoding) => encoding !== "" && encoding !== "identity");
  let decoded = body;
  for (const encoding of encodings.reverse()) {
    const decompress = DECOMPRESSORS.get(encoding);
    if (decompress === undefined)
      throw ServerException.of("UNSUPPORTED_MEDIA_TYPE", `Unknown Content-Encoding of HTTP request: ${encoding}`);
    try {
      decoded = await decompress(decoded, { maxOutputLength: limit });
    } catch (error) {
      if (
        error instanceof RangeError ||
        (error instanceof Error && "code" in error && error.code === "ERR_BUFFER_TOO_LARGE")
      ) {
        throw ServerException.of(
          "QUERY_IS_TOO_LARGE",
          `Decompressed request body is larger than the local server's limit of ${limit} bytes`,
          413,
        );
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw ServerException.of("CANNOT_DECOMPRESS", `Cannot decompress the ${encoding} request body: ${reason}`, 400);
    }
  }
  return decoded;
}

export function bodyTooLarge(limit: number): ServerException {
  return ServerException.of(
    "QUERY_IS_TOO_LARGE",
    `Request body is larger than the local server's limit of ${limit} bytes`,
    413,
  );
}
