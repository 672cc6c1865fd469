import { DurableObject } from "cloudflare:workers";
import type { LiveHubShardApi, ShardLiveState } from "./live-delta";

// TODO(owner): placeholder so the Worker builds; see issue 5.
export class LiveHub extends DurableObject<Env> implements LiveHubShardApi {
  async applyShardState(_state: ShardLiveState): Promise<void> {}
}
