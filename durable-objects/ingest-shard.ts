import { DurableObject } from "cloudflare:workers";
import type { EnrichedBatch, IngestOutcome } from "../protocol";

// TODO(owner): placeholder so the Worker builds; see issue 3.
export class IngestShard extends DurableObject<Env> {
  async ingest(batch: EnrichedBatch): Promise<IngestOutcome> {
    return { status: "accepted", accepted: batch.events.length };
  }
}
