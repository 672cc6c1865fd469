-- sessions.session_hash: sipHash64(session_id), stored. Session answers match sessions by this
-- hash (event-attribute filters against session_attribute_rollup, the goals route against
-- goal_rollup: history-filters.ts, goal-queries.ts), and hashing a month's 400k session ids on
-- every such query was ~15 of each filtered session answer's ~70 ms of CPU on 10M events
-- (docs/benchmarks.md, "Stored session hash"). MATERIALIZED: computed by ClickHouse on every
-- insert (a shard's flush, an import straight into `sessions`), never sent by a client, and
-- left out of `SELECT *`, so the console views and every INSERT … SELECT * are unchanged. On a
-- cluster the Distributed table declares it the same way, which is what lets inserts through
-- it pass (the local table computes it).
--
-- The backfill is a mutation on existing parts, waited for; a part not yet rewritten computes
-- the hash when read, so answers are the same while it runs.
ALTER TABLE sessions
    ADD COLUMN IF NOT EXISTS session_hash UInt64 MATERIALIZED sipHash64(session_id)
;

ALTER TABLE sessions MATERIALIZE COLUMN session_hash SETTINGS mutations_sync = 1
;
