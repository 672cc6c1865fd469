/**
 * Writes one query's result to its HTTP response the way clickhouse-server does.
 *
 * Headers leave with the first result chunk, so a failure before it still gets its proper
 * status and `X-ClickHouse-Exception-Code`. A failure after it can no longer change the
 * status: the exception is appended to the body in the tagged block clickhouse-server
 * writes since 25.11 (`X-ClickHouse-Exception-Tag` names the tag), which clients detect.
 * `wait_end_of_query=1` holds the whole result back until the query ends, as on a server.
 * With `enable_http_compression=1` the body is compressed in the best encoding the client
 * accepts. Writing waits for the socket to drain, so a slow reader slows the query down
 * instead of piling its result up in memory.
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Writable } from "node:stream";
import zlib from "node:zlib";
import type { EngineSummary } from "./chdb-engine";
import type { ServerException } from "./server-exception";

export type ResponseEncoding = "gzip" | "deflate" | "br" | "zstd";

export interface ResultWriterOptions {
  queryId: string;
  /** Output format, or null for statements without a result (INSERT). */
  format: string | null;
  /** Compress the body in this encoding (negotiated from Accept-Encoding). */
  encoding: ResponseEncoding | null;
  /** wait_end_of_query=1: send nothing until the query has ended. */
  waitEndOfQuery: boolean;
  version: string;
}

const ENCODERS: Record<ResponseEncoding, (() => zlib.Gzip | zlib.Deflate | zlib.BrotliCompress) | undefined> = {
  gzip: () => zlib.createGzip(),
  deflate: () => zlib.createDeflate(),
  br: () => zlib.createBrotliCompress(),
  zstd: typeof zlib.createZstdCompress === "function" ? () => zlib.createZstdCompress() : undefined,
};

/** `bytes` compressed in `encoding` at once: for error bodies, which are small. */
export function compressWhole(encoding: ResponseEncoding, bytes: Uint8Array): Buffer {
  switch (encoding) {
    case "gzip":
      return zlib.gzipSync(bytes);
    case "deflate":
      return zlib.deflateSync(bytes);
    case "br":
      return zlib.brotliCompressSync(bytes);
    case "zstd":
      return zlib.zstdCompressSync(bytes);
  }
}

/** The encoding to answer in: clickhouse-server compresses only when the query asks (enable_http_compression=1). */
export function negotiateEncoding(acceptEncoding: string | undefined, enabled: boolean): ResponseEncoding | null {
  if (!enabled || acceptEncoding === undefined) return null;
  const offered = acceptEncoding
    .toLowerCase()
    .split(",")
    .map((entry) => entry.trim().split(";")[0]);
  for (const encoding of ["gzip", "deflate", "br", "zstd"] as const) {
    if (offered.includes(encoding) && ENCODERS[encoding] !== undefined) return encoding;
  }
  return null;
}

export class ResultWriter {
  private readonly exceptionTag = randomBytes(8).toString("hex");
  private readonly held: Uint8Array[] = [];
  private output: Writable | null = null;
  private resultBytes = 0;

  constructor(
    private readonly response: ServerResponse,
    private readonly options: ResultWriterOptions,
  ) {}

  get started(): boolean {
    return this.response.headersSent;
  }

  /** Sink for the engine: resolves once the chunk is accepted (or the client is gone). */
  readonly write = async (chunk: Uint8Array): Promise<void> => {
    this.resultBytes += chunk.byteLength;
    if (this.options.waitEndOfQuery) {
      this.held.push(chunk);
      return;
    }
    // The client is gone: nothing will ever drain, so take the chunk and let the engine see the abort.
    if (this.response.destroyed) return;
    const output = this.output ?? this.start(null);
    if (!output.write(chunk)) await this.drained(output);
  };

  /** The query ended well: send what is held and end the body. */
  finish(summary: EngineSummary): void {
    const output = this.output ?? this.start(summary);
    for (const chunk of this.held) output.write(chunk);
    this.held.length = 0;
    output.end();
  }

  /**
   * The query failed. Before the first byte this is an ordinary error response; after it the
   * exception goes into the body as a tagged block and the body ends there.
   */
  fail(
    exception: ServerException,
    sendError: (exception: ServerException, encoding: ResponseEncoding | null) => void,
  ): void {
    this.held.length = 0;
    if (this.output === null) {
      // Compressed like a result would have been: clients with compression on gunzip error bodies too.
      sendError(exception, this.options.encoding);
      return;
    }
    if (this.response.destroyed) return;
    const message = exception.body(this.options.version).trimEnd();
    const length = Buffer.byteLength(message) + 1;
    const tag = this.exceptionTag;
    this.output.end(`\r\n__exception__\r\n${tag}\n${message}\n${length} ${tag}\r\n__exception__\r\n`);
  }

  private start(summary: EngineSummary | null): Writable {
    const format = this.options.format;
    const body = this.held.reduce((size, chunk) => size + chunk.byteLength, 0);
    const headers: Record<string, string> = {
      "Content-Type": contentType(format),
      "X-ClickHouse-Query-Id": this.options.queryId,
      ...(format === null ? {} : { "X-ClickHouse-Format": format }),
      "X-ClickHouse-Server-Display-Name": "edgepulse-local",
      "X-ClickHouse-Exception-Tag": this.exceptionTag,
      "X-ClickHouse-Summary": summaryHeader(summary, this.resultBytes),
    };
    const encoding = this.options.encoding;
    if (encoding !== null) headers["Content-Encoding"] = encoding;
    // A complete, uncompressed result gets a length; a streamed one goes chunked.
    else if (summary !== null) headers["Content-Length"] = String(body);
    this.response.writeHead(200, headers);
    const encoder = encoding === null ? undefined : ENCODERS[encoding];
    if (encoder === undefined) {
      this.output = this.response;
    } else {
      const compressor = encoder();
      compressor.pipe(this.response);
      this.response.once("close", () => compressor.destroy());
      this.output = compressor;
    }
    return this.output;
  }

  private drained(output: Writable): Promise<void> {
    return new Promise((resolveDrain) => {
      // A write to a socket that closed meanwhile returns false too; its "close" has already fired.
      if (this.response.destroyed || output.destroyed) {
        resolveDrain();
        return;
      }
      const done = () => {
        output.off("drain", done);
        this.response.off("close", done);
        resolveDrain();
      };
      output.once("drain", done);
      this.response.once("close", done);
    });
  }
}

export function contentType(format: string | null): string {
  if (format === null) return "text/plain; charset=UTF-8";
  if (/EachRow/.test(format)) return "application/x-ndjson; charset=UTF-8";
  if (format.startsWith("JSON")) return "application/json; charset=UTF-8";
  if (format.startsWith("CSV")) return "text/csv; charset=UTF-8; header=absent";
  if (format.startsWith("TabSeparated") || format.startsWith("TSV")) return "text/tab-separated-values; charset=UTF-8";
  if (/^(RowBinary|Native|Parquet|Arrow|ORC|Avro|Protobuf|CapnProto|MsgPack)/.test(format))
    return "application/octet-stream";
  return "text/plain; charset=UTF-8";
}

/** Same keys as clickhouse-server's header; its values are strings too. Null: the query is still running. */
function summaryHeader(summary: EngineSummary | null, resultBytes: number): string {
  return JSON.stringify({
    read_rows: String(summary?.read_rows ?? 0),
    read_bytes: String(summary?.read_bytes ?? 0),
    written_rows: String(summary?.written_rows ?? 0),
    written_bytes: String(summary?.written_bytes ?? 0),
    total_rows_to_read: String(summary?.read_rows ?? 0),
    result_rows: String(summary?.result_rows ?? 0),
    result_bytes: String(resultBytes),
    elapsed_ns: String(summary?.elapsed_ns ?? 0),
  });
}
