-- Rung schema, version 13 (SQLite): nothing to do. PostgreSQL's migration
-- 13 leaves room on the pages of outbox_subjects for updates in place;
-- SQLite rewrites a row in its page anyway. Kept so that the numbers of
-- both folders stay in step with internal/store/postgres/migrations.
SELECT 1;
