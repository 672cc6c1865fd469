/**
 * HTTP sessions (`session_id`), kept the way clickhouse-server keeps them: requests with the
 * same id share one engine connection, so `SET`, `USE` and temporary tables persist between
 * them; one request at a time per session (a second concurrent one gets SESSION_IS_LOCKED);
 * the session expires `session_timeout` seconds (default 60, at most 3600) after its last
 * request finished; `session_check=1` refuses to create one; `close_session=1` ends it.
 */
import { ServerException } from "./server-exception";

export interface SessionRequest {
  id: string;
  timeoutSeconds: number;
  /** session_check=1: the session must already exist. */
  mustExist: boolean;
  /** close_session=1: end the session after this request. */
  closeAfter: boolean;
}

export const DEFAULT_SESSION_TIMEOUT_SECONDS = 60;
export const MAX_SESSION_TIMEOUT_SECONDS = 3600;

/** Reads session_id, session_timeout, session_check and close_session from the request parameters. */
export function sessionRequestOf(params: URLSearchParams): SessionRequest | null {
  const id = params.get("session_id");
  if (id === null || id === "") return null;
  const timeoutText = params.get("session_timeout");
  const timeoutSeconds =
    timeoutText === null || timeoutText === "" ? DEFAULT_SESSION_TIMEOUT_SECONDS : Number(timeoutText);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0 || timeoutSeconds > MAX_SESSION_TIMEOUT_SECONDS) {
    throw ServerException.of(
      "INVALID_SESSION_TIMEOUT",
      `Invalid session timeout: '${timeoutText}', max session timeout is ${MAX_SESSION_TIMEOUT_SECONDS}`,
      400,
    );
  }
  return {
    id,
    timeoutSeconds,
    mustExist: params.get("session_check") === "1",
    closeAfter: params.get("close_session") === "1",
  };
}

/** What a session holds: an engine connection, closed when the session ends. */
export interface SessionResource {
  close(): void;
}

interface Entry<R extends SessionResource> {
  resource: R;
  busy: boolean;
  timeoutSeconds: number;
  expiry: NodeJS.Timeout | null;
}

export class HttpSessions<R extends SessionResource> {
  private readonly entries = new Map<string, Entry<R>>();

  constructor(private readonly open: () => R) {}

  get size(): number {
    return this.entries.size;
  }

  /** Takes the session for one request; the returned function hands it back when the request ends. */
  acquire(request: SessionRequest): { resource: R; release: () => void } {
    let entry = this.entries.get(request.id);
    if (entry === undefined) {
      if (request.mustExist) throw ServerException.of("SESSION_NOT_FOUND", `Session ${request.id} not found`);
      entry = { resource: this.open(), busy: false, timeoutSeconds: request.timeoutSeconds, expiry: null };
      this.entries.set(request.id, entry);
    }
    if (entry.busy)
      throw ServerException.of("SESSION_IS_LOCKED", `Session ${request.id} is locked by a concurrent client`);
    entry.busy = true;
    entry.timeoutSeconds = request.timeoutSeconds;
    if (entry.expiry !== null) clearTimeout(entry.expiry);
    entry.expiry = null;
    const held = entry;
    let released = false;
    return {
      resource: held.resource,
      release: () => {
        if (released) return;
        released = true;
        held.busy = false;
        if (request.closeAfter || held.timeoutSeconds === 0) this.end(request.id, held);
        else {
          held.expiry = setTimeout(() => this.end(request.id, held), held.timeoutSeconds * 1000);
          held.expiry.unref();
        }
      },
    };
  }

  /** Ends every idle session; busy ones end when their request hands them back. */
  closeAll(): void {
    for (const [id, entry] of this.entries) {
      if (entry.busy) entry.timeoutSeconds = 0;
      else this.end(id, entry);
    }
  }

  private end(id: string, entry: Entry<R>): void {
    if (this.entries.get(id) !== entry) return;
    if (entry.expiry !== null) clearTimeout(entry.expiry);
    this.entries.delete(id);
    entry.resource.close();
  }
}
