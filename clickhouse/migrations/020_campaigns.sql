-- Campaigns and channels (issue 14): a page view's utm_* values and channel on `events`
-- (per page view, '' on other events), and the session's first touch (its entry page view's
-- values) on `sessions`. Derived by the Worker from the page URL and referrer
-- (worker/attribution/); see docs/design.md.
--
-- Rows inserted before this migration read '' for every new column. The console views of
-- 010_console_views.sql keep the column list they were created with, so both are replaced
-- below with the same text as in 010.

ALTER TABLE events
    ADD COLUMN IF NOT EXISTS utm_source   String,
    ADD COLUMN IF NOT EXISTS utm_medium   String,
    ADD COLUMN IF NOT EXISTS utm_campaign String,
    ADD COLUMN IF NOT EXISTS utm_term     String,
    ADD COLUMN IF NOT EXISTS utm_content  String,
    ADD COLUMN IF NOT EXISTS channel      LowCardinality(String)
;

ALTER TABLE sessions
    ADD COLUMN IF NOT EXISTS utm_source   String,
    ADD COLUMN IF NOT EXISTS utm_medium   String,
    ADD COLUMN IF NOT EXISTS utm_campaign String,
    ADD COLUMN IF NOT EXISTS utm_term     String,
    ADD COLUMN IF NOT EXISTS utm_content  String,
    ADD COLUMN IF NOT EXISTS channel      LowCardinality(String)
;

CREATE OR REPLACE VIEW `{database}_console`.events AS
SELECT * FROM `{database}`.events LIMIT 1000000000000000
;

CREATE OR REPLACE VIEW `{database}_console`.sessions AS
SELECT * FROM `{database}`.sessions LIMIT 1000000000000000
;
