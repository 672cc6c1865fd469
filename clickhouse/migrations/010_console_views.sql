-- The SQL console's tables: one view per EdgePulse table in `<database>_console`, the database
-- a console query runs in (worker/sql-guard.ts). `{database}` is replaced by the configured
-- database when the migration runs.
--
-- Why views with a LIMIT: `additional_table_filters` (the site filter) is applied to the read of
-- the real table, but ClickHouse may evaluate a query's own PREWHERE/WHERE on a part's rows
-- before that filter, so an expression that throws on another site's row revealed its values.
-- A filter can never be moved below a LIMIT (that would change which rows the LIMIT keeps), so
-- every expression of the console query runs on the view's output, i.e. after the site filter,
-- on the site's own rows only; a view also refuses PREWHERE outright. The LIMIT is far above any
-- table's size, so it never cuts a result.
--
-- A view keeps the column list its table had when it was created: a migration that adds a column
-- to one of these tables must replace its view too.
CREATE DATABASE IF NOT EXISTS `{database}_console`
;

CREATE OR REPLACE VIEW `{database}_console`.events AS
SELECT * FROM `{database}`.events LIMIT 1000000000000000
;

CREATE OR REPLACE VIEW `{database}_console`.sessions AS
SELECT * FROM `{database}`.sessions LIMIT 1000000000000000
;

CREATE OR REPLACE VIEW `{database}_console`.window_metrics AS
SELECT * FROM `{database}`.window_metrics LIMIT 1000000000000000
;
