/**
 * A live-feed client for the workerd tests: opens the socket through any fetcher (the Worker
 * or a hub stub), checks every message against the protocol's schema and lets a test wait for
 * the message it expects, in arrival order.
 */
import { liveMessageSchema, type LiveMessage } from "../../protocol";
import { ArrivalQueue } from "../../test/support/arrival-queue";

interface Fetches {
  fetch(input: string, init?: RequestInit): Response | Promise<Response>;
}

export class LiveTestClient {
  private readonly queue = new ArrivalQueue<LiveMessage>();
  /** Messages that did not parse with liveMessageSchema (a test expects none). */
  readonly invalid: string[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const text = typeof event.data === "string" ? event.data : "";
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const parsed = liveMessageSchema.safeParse(json);
      if (parsed.success) this.queue.push(parsed.data);
      else this.invalid.push(text.slice(0, 200));
    });
    socket.accept();
  }

  static async connect(fetcher: Fetches, url: string): Promise<LiveTestClient> {
    const response = await fetcher.fetch(url, { headers: { Upgrade: "websocket" } });
    if (response.status !== 101 || response.webSocket === null) {
      throw new Error(`expected a WebSocket upgrade, got ${response.status}: ${await response.text()}`);
    }
    return new LiveTestClient(response.webSocket);
  }

  /** The next message (after the ones already taken) that satisfies `predicate`. */
  async next(predicate: (message: LiveMessage) => boolean = () => true, timeoutMs = 10_000): Promise<LiveMessage> {
    return (await this.queue.next(predicate, timeoutMs)).item;
  }

  /** Every valid message so far, in arrival order. */
  get messages(): readonly LiveMessage[] {
    return this.queue.items;
  }

  close(): void {
    try {
      this.socket.close(1000, "done");
    } catch {
      // Already closed.
    }
  }
}
