-- Rung schema, version 13 (PostgreSQL): the producer's state per subject is
-- rewritten in place. Each step updates thousands of rows of
-- outbox_subjects without changing its key; with room left on every page
-- the new version goes beside the old one (a HOT update: no new index
-- entry), and the old one is reclaimed as soon as the page is read again,
-- with or without autovacuum. Full pages move every update to another page
-- with a new index entry, and the table and its index grow until a VACUUM.
-- The table is rewritten once (CLUSTER, which honours the new fillfactor;
-- seconds for a million subjects), so that the rows already stored get the
-- room too. Keep the numbers of this folder in step with
-- internal/store/sqlite/migrations.
ALTER TABLE outbox_subjects SET (fillfactor = 50);
CLUSTER outbox_subjects USING outbox_subjects_pkey;
ALTER TABLE outbox_subjects SET WITHOUT CLUSTER;
