/**
 * LiveHub: one per site. Shards send it their absolute live state (applyShardState); it keeps
 * the latest per shard, sums, and pushes the result to dashboards over hibernating WebSockets
 * and answers the speed-layer REST routes.
 *
 * Transport and storage only; the merge rules are in merged-shards.ts, the message shapes in
 * live-message.ts, the rows in hub-storage.ts. Nothing lives only in memory: the MergedShards is a
 * cache of the hub's SQLite rows, rebuilt lazily after hibernation or eviction, and a hub whose
 * storage is empty asks the shards (`liveState()`) once.
 */
import { DurableObject } from "cloudflare:workers";
import { errorBody, siteKeySchema, type Overview, type Performance, type WindowsResponse } from "../../protocol";
import { LIVE_CAPS_HEADER, LIVE_CLIENT_HEADER, LIVE_TOKEN_HEADER } from "../../protocol/live";
import { loadConfig } from "../../common/config";
import { ingestShardName } from "../../common/shard-routing";
import { MergedShards } from "./merged-shards";
import { HubStorage } from "./hub-storage";
import {
  type HubAnswer,
  isLiveDelta,
  type LiveHubShardApi,
  type ShardLiveSend,
} from "../shard-to-hub/shard-live-state";
import { liveMessageJson } from "./live-message";
import { checkShardLiveDelta, checkShardLiveState } from "../shard-to-hub/check-shard-live-state";
import { MAX_HUB_WINDOWS, shardLiveStateSchema } from "../shard-to-hub/shard-live-state";

/**
 * Updates to clients are coalesced to at most one per this interval: the second coalescing
 * stage of event → live after the shards' own 100 ms (docs/live.md has the measurements; at
 * 250 ms it alone made the idle p99 ~100 ms).
 */
export const BROADCAST_INTERVAL_MS = 100;
/** Sockets one hub holds; far below the runtime's 32k, and every update is sent to each. */
export const MAX_LIVE_CLIENTS = 10_000;
/** A speed-layer REST call keeps the site "watched" (shards at their fast cadence) this long. */
export const REST_WATCH_MS = 30_000;

export class LiveHub extends DurableObject<Env> implements LiveHubShardApi {
  private store: HubStorage;
  private readonly windowSeconds: number;
  /** Cache of the stored rows; null until first needed after a (re)start. */
  private state: MergedShards | null = null;
  /** Until when a REST caller counts as watching. Memory only: lost with the hub, it errs towards idle. */
  private restWatchedUntil = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new HubStorage(ctx.storage.sql);
    this.windowSeconds = loadConfig(env).windowSeconds;
    // Answered by the runtime without waking the hub, so idle dashboards cost nothing.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  // ---- shards → hub --------------------------------------------------------------------

  /**
   * A shard's send, whole or with today as a delta of the base the hub holds for it
   * (`dayBase` in the answer says whether the hub holds this send's day now; when not, the
   * shard sends its whole state next).
   */
  async applyShardState(input: ShardLiveSend): Promise<HubAnswer> {
    // A shard of this deployment over RPC: the proportionate check (check-shard-live-state.ts says why).
    const state = isLiveDelta(input) ? checkShardLiveDelta(input) : checkShardLiveState(input);
    this.store.rememberSite(state.site);
    const now = Date.now();
    const connected = this.ctx.getWebSockets().length > 0;
    const dayBase = this.applyAndStore(state, now, connected);
    await this.scheduleOwedUpdate();
    return { watched: connected || now < this.restWatchedUntil, dayBase };
  }

  /**
   * `connected`: a dashboard is connected (the caller has counted the sockets once). True when
   * the shard's day state of this send is now the hub's (stored).
   */
  private applyAndStore(state: ShardLiveSend, now: number, connected: boolean): boolean {
    const result = this.hubState().apply(state, now);
    if (result.shardUpdated && result.record !== undefined) this.store.saveShard(result.record);
    this.store.saveWindows(state.shard, state.seq, result.acceptedWindows);
    this.store.dropWindowsBefore(result.dropBefore);
    const changed = result.shardUpdated || result.acceptedWindows.length > 0;
    // With nobody connected nothing is owed: the next client starts from a snapshot.
    if (changed && connected) {
      this.store.owedUpdate(result.acceptedWindows.map((partial) => partial.start));
    }
    return result.shardUpdated;
  }

  /**
   * The owed update goes out from an alarm, not a timer: the marker and the alarm are both
   * durable, so a hub that hibernates or is evicted in between still sends it. An alarm that
   * is already set covers every change made before it fires.
   */
  private async scheduleOwedUpdate(): Promise<void> {
    if (!this.store.isUpdateOwed()) return;
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    await this.ctx.storage.setAlarm(Math.max(Date.now(), this.store.lastBroadcastAt() + BROADCAST_INTERVAL_MS));
  }

  /** Alarms are at-least-once: a repeat finds nothing owed, or re-sends absolute values. */
  override async alarm(): Promise<void> {
    if (!this.store.isUpdateOwed()) return;
    const now = Date.now();
    const site = this.store.site();
    const sockets = this.ctx.getWebSockets();
    if (site !== null && sockets.length > 0) {
      const state = this.hubState();
      const json = liveMessageJson("update", {
        site,
        at: now,
        windowSeconds: this.windowSeconds,
        windows: state.windowsAt(this.store.changedWindowStarts()),
        ...state.dayViews(site, now),
      });
      for (const socket of sockets) sendQuietly(socket, json);
    }
    this.store.updateSent(now);
  }

  // ---- dashboards → hub ----------------------------------------------------------------

  /** The Worker has checked the token; this only upgrades (see worker/routes/live.ts). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(errorBody("upgrade_required", "expected a WebSocket upgrade"), { status: 426 });
    }
    const site = siteKeySchema.safeParse(new URL(request.url).searchParams.get("site"));
    if (!site.success) return Response.json(errorBody("invalid_payload", "missing or invalid site"), { status: 400 });
    if (this.ctx.getWebSockets().length >= MAX_LIVE_CLIENTS) {
      return Response.json(errorBody("overloaded", "too many live clients for this site"), {
        status: 503,
        headers: { "Retry-After": "5" },
      });
    }
    // One token or one client cannot take the site's sockets from the others.
    const tags = [
      `token:${request.headers.get(LIVE_TOKEN_HEADER) ?? ""}`,
      `client:${request.headers.get(LIVE_CLIENT_HEADER) ?? ""}`,
    ];
    const [tokenTag = "", clientTag = ""] = tags;
    // Without the Worker's caps (a caller inside the deployment), only the site's cap applies.
    const [perToken = Number.POSITIVE_INFINITY, perClient = Number.POSITIVE_INFINITY] = (
      request.headers.get(LIVE_CAPS_HEADER) ?? ""
    )
      .split(",")
      .filter((cap) => cap !== "")
      .map(Number);
    if (this.ctx.getWebSockets(tokenTag).length >= perToken || this.ctx.getWebSockets(clientTag).length >= perClient) {
      return Response.json(
        errorBody("rate_limited", "too many live connections for this token or client; close some first"),
        {
          status: 429,
          headers: { "Retry-After": "5" },
        },
      );
    }
    await this.prepare(site.data);
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, tags);
    const now = Date.now();
    const state = this.hubState();
    server.send(
      liveMessageJson("snapshot", {
        site: site.data,
        at: now,
        windowSeconds: this.windowSeconds,
        windows: state.recentWindows(MAX_HUB_WINDOWS),
        ...state.dayViews(site.data, now),
      }),
    );
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Clients have nothing to say beyond "ping" (answered by the runtime); anything else is ignored. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    // Completes the close handshake where the runtime does not reply to a close itself.
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  // ---- speed-layer REST (over RPC from worker/routes/live-metrics.ts) ------------------------

  async recentWindows(site: string, limit: number): Promise<WindowsResponse> {
    this.restWatchedUntil = Date.now() + REST_WATCH_MS;
    await this.prepare(site);
    return {
      site,
      window_seconds: this.windowSeconds,
      windows: this.hubState().recentWindows(Math.min(limit, MAX_HUB_WINDOWS)),
    };
  }

  async overview(site: string): Promise<Overview> {
    this.restWatchedUntil = Date.now() + REST_WATCH_MS;
    await this.prepare(site);
    return this.hubState().overview(site, Date.now());
  }

  async performance(site: string): Promise<Performance> {
    this.restWatchedUntil = Date.now() + REST_WATCH_MS;
    await this.prepare(site);
    return this.hubState().performance(site, Date.now());
  }

  /** A token was revoked: close the sockets it opened (tagged with its digest by worker/routes/live.ts). */
  async closeSocketsOf(tokenTag: string): Promise<number> {
    const sockets = this.ctx.getWebSockets(`token:${tokenTag}`);
    for (const socket of sockets) {
      try {
        socket.close(4401, "token revoked");
      } catch {
        // Already closed.
      }
    }
    return sockets.length;
  }

  /** The site was deleted: close its dashboards' sockets, drop every stored row and the alarm. */
  async purge(): Promise<void> {
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.close(4404, "site deleted");
      } catch {
        // Already closed.
      }
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.store = new HubStorage(this.ctx.storage.sql);
    this.state = null;
  }

  /** Sockets connected now, hibernated ones included (for `GET /metrics`). */
  async liveClients(): Promise<number> {
    return this.ctx.getWebSockets().length;
  }

  // ---- rebuilding -----------------------------------------------------------------------

  private hubState(): MergedShards {
    // Lazy, so a hub woken only to close a socket never parses its rows.
    this.state ??= MergedShards.restore(this.windowSeconds * 1000, this.store.loadShards(), this.store.loadWindows());
    return this.state;
  }

  /**
   * The first time a client or a REST call needs the hub, it asks every shard it has not heard
   * from (all of them if its storage was lost) for its full state, once, so an idle site's
   * numbers are right without waiting for traffic on every shard.
   * Shards that cannot answer are skipped: they send their state with their next event.
   */
  private async prepare(site: string): Promise<void> {
    this.store.rememberSite(site);
    if (this.store.shardsSynced()) return;
    this.store.markShardsSynced();
    const state = this.hubState();
    const silent = Array.from({ length: loadConfig(this.env).shards }, (_, index) => index).filter(
      (index) => !state.hasShard(index),
    );
    const states = await Promise.allSettled(
      silent.map((index) =>
        this.env.INGEST_SHARD.get(this.env.INGEST_SHARD.idFromName(ingestShardName(site, index))).liveState(),
      ),
    );
    const now = Date.now();
    const connected = this.ctx.getWebSockets().length > 0;
    for (const settled of states) {
      if (settled.status !== "fulfilled") continue;
      const state = shardLiveStateSchema.safeParse(settled.value);
      if (state.success && state.data.site === site) this.applyAndStore(state.data, now, connected);
    }
    await this.scheduleOwedUpdate();
  }
}

/** One dead socket must not keep the others from their update. */
function sendQuietly(socket: WebSocket, message: string): void {
  try {
    socket.send(message);
  } catch {
    // The runtime closes it; webSocketClose follows.
  }
}
