import { describe, expect, it } from "vitest";
import { decodeUtf8, readBoundedBody } from "./bounded-body";
import { ApiError } from "./errors";

function streamOf(chunks: Uint8Array[], onPull?: () => void): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      onPull?.();
      const chunk = chunks[index++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("readBoundedBody", () => {
  it("returns a body within the limit, joined from its chunks", async () => {
    const request = new Request("https://x/", {
      method: "POST",
      body: streamOf([new Uint8Array([1, 2]), new Uint8Array([3])]),
    });
    expect([...(await readBoundedBody(request, 3))]).toEqual([1, 2, 3]);
  });

  it("refuses a declared Content-Length over the limit before reading", async () => {
    let pulls = 0;
    const request = new Request("https://x/", {
      method: "POST",
      headers: { "Content-Length": "1000" },
      body: streamOf([new Uint8Array(10)], () => pulls++),
    });
    const error = await rejection(readBoundedBody(request, 100));
    expect(error.status).toBe(413);
    expect(error.code).toBe("payload_too_large");
    expect(pulls).toBeLessThanOrEqual(1); // a stream may pull once eagerly; nothing is consumed
  });

  it("stops reading a chunked body as soon as it passes the limit", async () => {
    let pulls = 0;
    const chunk = new Uint8Array(40);
    // An endless body: the reader must give up, not buffer it.
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulls++;
        controller.enqueue(chunk);
      },
    });
    const error = await rejection(readBoundedBody(new Request("https://x/", { method: "POST", body: endless }), 100));
    expect(error.status).toBe(413);
    // Read (and discarded) up to 32 × the limit, 3,200 bytes = 80 chunks, then cut off.
    expect(pulls).toBeLessThanOrEqual(82);
  });

  it("reads a body up to 32 times the limit to its end before refusing it (the connection stays usable)", async () => {
    let pulls = 0;
    const chunks = Array.from({ length: 4 }, () => new Uint8Array(40));
    const error = await rejection(
      readBoundedBody(new Request("https://x/", { method: "POST", body: streamOf(chunks, () => pulls++) }), 100),
    );
    expect(error.status).toBe(413);
    // All 160 bytes and the end of the stream were read: nothing was cancelled mid-body.
    expect(pulls).toBe(5);
  });

  it("accepts a body of exactly the limit", async () => {
    const request = new Request("https://x/", { method: "POST", body: new Uint8Array(100) });
    expect((await readBoundedBody(request, 100)).byteLength).toBe(100);
  });

  it("reads a missing body as empty", async () => {
    expect((await readBoundedBody(new Request("https://x/", { method: "POST" }), 100)).byteLength).toBe(0);
  });

  it("answers 408 for a body that trickles or stops before its end", async () => {
    // 60 bytes of a declared 5,000, then nothing more.
    let sent = false;
    const stalled = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) controller.enqueue(new Uint8Array(60));
        sent = true;
        return new Promise(() => undefined);
      },
    });
    const request = new Request("https://x/", { method: "POST", body: stalled, headers: { "Content-Length": "5000" } });
    const error = await rejection(readBoundedBody(request, 64 * 1024, { timeoutMs: 100 }));
    expect([error.status, error.code]).toEqual([408, "request_timeout"]);
  });

  it("answers 400, not a 5xx, when the body stream breaks (the client went away)", async () => {
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error("connection reset"));
      },
    });
    const error = await rejection(readBoundedBody(new Request("https://x/", { method: "POST", body: broken }), 100));
    expect([error.status, error.code]).toEqual([400, "invalid_payload"]);
  });
});

describe("readBoundedBody with Content-Encoding", () => {
  async function compressed(text: string, format: "gzip" | "deflate"): Promise<Uint8Array> {
    return new Uint8Array(
      await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream(format))).arrayBuffer(),
    );
  }

  it.each(["gzip", "deflate"] as const)("decompresses a %s body", async (format) => {
    const request = new Request("https://x/", {
      method: "POST",
      body: await compressed('{"v":1}', format),
      headers: { "Content-Encoding": format },
    });
    expect(decodeUtf8(await readBoundedBody(request, 100))).toBe('{"v":1}');
  });

  it("applies the limit to the decompressed body (a small bomb is a 413)", async () => {
    const bomb = await compressed("x".repeat(1_000_000), "gzip");
    expect(bomb.byteLength).toBeLessThan(10_000);
    const request = new Request("https://x/", { method: "POST", body: bomb, headers: { "Content-Encoding": "gzip" } });
    expect((await rejection(readBoundedBody(request, 64 * 1024))).status).toBe(413);
  });

  it("answers 400 for a body that is not what its encoding says", async () => {
    const request = new Request("https://x/", {
      method: "POST",
      body: '{"v":1}',
      headers: { "Content-Encoding": "gzip" },
    });
    expect((await rejection(readBoundedBody(request, 100))).code).toBe("invalid_payload");
  });

  it("answers 415 for an encoding it cannot decode, never reading it as plain text", async () => {
    for (const label of ["br", "zstd", "compress"]) {
      const request = new Request("https://x/", {
        method: "POST",
        body: '{"v":1}',
        headers: { "Content-Encoding": label },
      });
      const error = await rejection(readBoundedBody(request, 100));
      expect([error.status, error.code]).toEqual([415, "unsupported_media_type"]);
    }
  });
});

describe("decodeUtf8", () => {
  it("decodes valid UTF-8", () => {
    expect(decodeUtf8(new TextEncoder().encode("blåbær ☕"))).toBe("blåbær ☕");
  });

  it("refuses invalid byte sequences with 400 invalid_payload", () => {
    const error = (() => {
      try {
        decodeUtf8(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).code).toBe("invalid_payload");
  });
});
