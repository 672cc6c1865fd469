-- Site deletion (worker/site-deletion.ts) removes a site's rows with a lightweight DELETE,
-- which marks them at once instead of rewriting every part. ClickHouse refuses it on a table
-- with projections unless told what to do with them (code 344), and since migration 040 gave
-- `events` the projection events_by_visit_attributes, every deletion fell back to the heavier
-- ALTER TABLE … DELETE. 'rebuild': a lightweight delete rebuilds the projection of the parts
-- it touches, so the projection never holds a deleted row.
ALTER TABLE events MODIFY SETTING lightweight_mutation_projection_mode = 'rebuild'
;
