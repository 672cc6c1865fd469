/**
 * The WebSocket to `/v1/live`: validates every message with the protocol's schemas, and
 * reconnects with backoff after any close. The hub opens every connection with a snapshot,
 * so a reconnect is a full resynchronisation; the failure count resets only once a snapshot
 * arrived, so a hub that accepts and drops connections still backs off.
 *
 * A browser hides why an upgrade failed, so after a connection that never delivered a
 * snapshot the route is asked again without upgrading, the token in the Authorization header
 * (the route takes `?token=` only on an upgrade): 401/403 means the token is wrong, and
 * retrying is pointless until the user enters another; 426 (the token is fine, the request
 * just did not upgrade), 429 (too many sockets) or 5xx mean retry.
 */
import { type LiveMessage, liveMessageSchema } from "../../protocol/live";
import { reconnectDelay } from "./backoff";

export type ConnectionState = "connecting" | "live" | "reconnecting" | "unauthorized" | "stopped";

export interface ConnectionStatus {
  state: ConnectionState;
  /** Human-readable detail for the status line. */
  detail: string;
  /** When state is "reconnecting": ms until the next attempt. */
  retryInMs?: number;
}

export interface LiveConnectionOptions {
  site: string;
  token: string;
  /** Page origin, e.g. `http://127.0.0.1:8787`. */
  origin: string;
  onMessage(message: LiveMessage): void;
  onStatus(status: ConnectionStatus): void;
}

/** The live route for `site`, over HTTP(S): where the token check goes, with the token in a header. */
export function liveUrl(origin: string, site: string): URL {
  const url = new URL("/v1/live", origin);
  url.searchParams.set("site", site);
  return url;
}

/** The live feed's WebSocket URL: it carries the token, since a browser's WebSocket cannot set headers. */
export function liveSocketUrl(origin: string, site: string, token: string): string {
  const url = liveUrl(origin, site);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  return url.toString();
}

export class LiveConnection {
  private socket: WebSocket | null = null;
  private failures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private gotSnapshot = false;
  /** Messages that failed validation since the connection opened. */
  invalidMessages = 0;

  constructor(private readonly options: LiveConnectionOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "dashboard closed the feed");
    this.options.onStatus({ state: "stopped", detail: "not connected" });
  }

  /** Skips the backoff wait (the "reconnect now" button). */
  reconnectNow(): void {
    if (this.stopped || this.socket !== null) return;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  private connect(): void {
    const { site, token, origin } = this.options;
    this.gotSnapshot = false;
    this.options.onStatus({ state: "connecting", detail: `connecting to ${site}…` });
    const socket = new WebSocket(liveSocketUrl(origin, site, token));
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      if (this.socket !== socket) return;
      this.receive(event.data);
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      void this.afterClose();
    });
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") {
      this.invalidMessages++;
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      this.invalidMessages++;
      return;
    }
    const parsed = liveMessageSchema.safeParse(json);
    if (!parsed.success) {
      this.invalidMessages++;
      return;
    }
    if (parsed.data.type === "snapshot") {
      this.gotSnapshot = true;
      this.failures = 0;
      this.options.onStatus({ state: "live", detail: "live" });
    } else if (!this.gotSnapshot) {
      // Updates before the snapshot cannot be placed; the snapshot that follows covers them.
      return;
    }
    this.options.onMessage(parsed.data);
  }

  private async afterClose(): Promise<void> {
    if (this.stopped) return;
    if (!this.gotSnapshot && (await this.tokenRejected())) {
      this.options.onStatus({ state: "unauthorized", detail: "the token was refused: enter a valid read token" });
      return;
    }
    if (this.stopped) return;
    const delay = reconnectDelay(this.failures++);
    this.options.onStatus({
      state: "reconnecting",
      detail: `connection lost; retrying in ${Math.ceil(delay / 1000)} s`,
      retryInMs: delay,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, delay);
  }

  private async tokenRejected(): Promise<boolean> {
    const { site, token, origin } = this.options;
    try {
      const response = await fetch(liveUrl(origin, site), { headers: { Authorization: `Bearer ${token}` } });
      await response.body?.cancel();
      return response.status === 401 || response.status === 403;
    } catch {
      return false;
    }
  }
}
