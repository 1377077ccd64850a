-- Tickwork: partition the run history, scheduler_run, by month of scheduled_for.
--
-- Guide: docs/how-to/partition-run-history.md.  Back up first, stop every
-- scheduler on the database, then run, as the owner of scheduler_run or a
-- superuser:
--
--     psql -v ON_ERROR_STOP=1 --single-transaction -f partition_runs.sql "$DATABASE_URL"
--
-- What it does, all or nothing:
--
-- 1. Creates three maintenance functions (CREATE OR REPLACE, so running this
--    file again refreshes them and changes nothing else):
--      scheduler_run_create_partition(month date)      one month's partition
--      scheduler_run_create_partitions(months_ahead)   this month and the next ones
--      scheduler_run_drop_partitions(older_than, detach_only)   retention
-- 2. Rebuilds scheduler_run as a table partitioned by RANGE (scheduled_for):
--    one partition per calendar month in UTC (scheduler_run_2026_03, ...), for
--    every month that has runs and for this month and the next three, plus a
--    DEFAULT partition (scheduler_run_default) that takes any run no month
--    partition covers, so an insert never fails for want of a partition.
--    Every row is copied with its id; the columns, their names, types,
--    defaults and the id sequence (serial or identity, as it was) stay as they
--    were, the sequence going on from where it stood.  Constraints and
--    indexes come back under their own names, with two changes PostgreSQL
--    imposes on a partitioned table:
--      * the primary key becomes (id, scheduled_for), since a primary key or
--        unique constraint must contain the partition key (the slot
--        constraint scheduler_run_slot_uniq, on (job_id, scheduled_for,
--        attempt), already does);
--      * id is therefore unique through the sequence, not through an index
--        of its own, and no other table may reference scheduler_run(id);
--      * a unique index without scheduled_for gets it as its last column:
--        scheduler_run_upstream_uniq becomes (job_id, upstream_run_id,
--        scheduled_for), which still refuses a second chained run for one
--        upstream run at the same slot (the chained run's slot is the
--        upstream run's end, the same for every replica).
--    The owner and the privileges granted on the table carry over.
--
-- The file runs only PostgreSQL's own SQL and PL/pgSQL (no psql commands), so
-- any client can run it, provided it runs in one transaction.  On a table that
-- is partitioned already it only refreshes the functions.  To undo, run
-- unpartition_runs.sql beside this file.


-- == Maintenance functions ==================================================

-- The partition of the calendar month (in UTC) that contains ``any_day``;
-- creates it unless it exists and returns its name, or NULL when it existed.
-- Runs of that month that went to the DEFAULT partition meanwhile are moved
-- into it.  Takes an exclusive lock on scheduler_run for a moment.
CREATE OR REPLACE FUNCTION scheduler_run_create_partition(any_day date)
RETURNS text
LANGUAGE plpgsql
AS $function$
DECLARE
    first_day date := make_date(extract(year FROM any_day)::int, extract(month FROM any_day)::int, 1);
    partition_name text := 'scheduler_run_' || to_char(first_day, 'YYYY_MM');
    low timestamptz := first_day::timestamp AT TIME ZONE 'UTC';
    high timestamptz := (first_day + interval '1 month') AT TIME ZONE 'UTC';
    parent regclass := 'scheduler_run'::regclass;
    default_partition regclass;
    owner_name text;
    strays boolean := false;
    moved bigint;
BEGIN
    IF to_regclass(partition_name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    SELECT partdefid::regclass INTO default_partition
    FROM pg_partitioned_table WHERE partrelid = parent AND partdefid <> 0;
    IF default_partition IS NOT NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE scheduled_for >= $1 AND scheduled_for < $2)',
                       default_partition)
        INTO strays USING low, high;
    END IF;
    IF strays THEN
        -- PostgreSQL refuses a new partition while the DEFAULT partition holds
        -- rows that belong in it: take them out, and put them back through
        -- the parent once the partition exists.
        EXECUTE 'CREATE TEMPORARY TABLE scheduler_run_moving (LIKE scheduler_run)';
        EXECUTE format(
            'WITH moved AS (DELETE FROM %s WHERE scheduled_for >= $1 AND scheduled_for < $2 '
            'RETURNING *) INSERT INTO scheduler_run_moving SELECT * FROM moved',
            default_partition)
        USING low, high;
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF scheduler_run FOR VALUES FROM (%L) TO (%L)',
                   partition_name, low, high);
    SELECT pg_get_userbyid(relowner) INTO owner_name FROM pg_class WHERE oid = parent;
    IF owner_name <> current_user THEN
        EXECUTE format('ALTER TABLE %I OWNER TO %I', partition_name, owner_name);
    END IF;
    IF strays THEN
        EXECUTE 'INSERT INTO scheduler_run SELECT * FROM scheduler_run_moving';
        EXECUTE 'DROP TABLE scheduler_run_moving';
        RAISE NOTICE 'moved % runs from % into %', moved, default_partition, partition_name;
    END IF;
    RETURN partition_name;
END;
$function$;

COMMENT ON FUNCTION scheduler_run_create_partition(date) IS
    'Tickwork: create the scheduler_run partition of the UTC calendar month of the given date';


-- The partitions of the current month (in UTC) and of the ``months_ahead``
-- months after it, those that do not exist yet; returns the names created.
-- Run it at least once a month (see the guide for a cron line).
CREATE OR REPLACE FUNCTION scheduler_run_create_partitions(months_ahead integer DEFAULT 3)
RETURNS SETOF text
LANGUAGE plpgsql
AS $function$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    created text;
BEGIN
    FOR step IN 0 .. greatest(months_ahead, 0) LOOP
        created := scheduler_run_create_partition((today + make_interval(months => step))::date);
        IF created IS NOT NULL THEN
            RETURN NEXT created;
        END IF;
    END LOOP;
END;
$function$;

COMMENT ON FUNCTION scheduler_run_create_partitions(integer) IS
    'Tickwork: create the scheduler_run partitions of this month and the next ones';


-- Retention by partition: drops (or, with detach_only, detaches) every month
-- partition whose whole month ended more than ``older_than`` ago; returns
-- their names.  A partition that still holds a run that has not ended
-- (pending, queued, running) is left in place, with a warning.  The DEFAULT
-- partition is never touched.  A detached partition is a table of its own,
-- to archive (pg_dump -t) and drop.
CREATE OR REPLACE FUNCTION scheduler_run_drop_partitions(
    older_than interval, detach_only boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql
AS $function$
DECLARE
    cutoff timestamptz := now() - older_than;
    part record;
    high timestamptz;
    busy boolean;
BEGIN
    FOR part IN
        SELECT child.oid::regclass AS rel, child.relname AS name
        FROM pg_inherits
        JOIN pg_class AS child ON child.oid = pg_inherits.inhrelid
        WHERE pg_inherits.inhparent = 'scheduler_run'::regclass
          AND child.relname ~ '^scheduler_run_[0-9]{4}_[0-9]{2}$'
        ORDER BY child.relname
    LOOP
        high := (to_date(right(part.name, 7), 'YYYY_MM') + interval '1 month') AT TIME ZONE 'UTC';
        CONTINUE WHEN high > cutoff;
        EXECUTE format(
            'SELECT EXISTS (SELECT 1 FROM %s WHERE status IN (''pending'', ''queued'', ''running''))',
            part.rel)
        INTO busy;
        IF busy THEN
            RAISE WARNING '% kept: it holds runs that have not ended', part.name;
            CONTINUE;
        END IF;
        IF detach_only THEN
            EXECUTE format('ALTER TABLE scheduler_run DETACH PARTITION %s', part.rel);
        ELSE
            EXECUTE format('DROP TABLE %s', part.rel);
        END IF;
        RETURN NEXT part.name;
    END LOOP;
END;
$function$;

COMMENT ON FUNCTION scheduler_run_drop_partitions(interval, boolean) IS
    'Tickwork: drop or detach the scheduler_run month partitions older than the given age';


-- == The conversion =========================================================

-- One statement, so it is all or nothing even outside a transaction block.
DO $convert$
DECLARE
    old regclass := to_regclass('scheduler_run');
    schema_name text;
    owner_name text;
    acl aclitem[];
    grant_row record;
    sequence_name text;
    is_identity boolean;
    next_id bigint;
    runs bigint;
    copied bigint;
    run_month date;
    constraint_sql text[];
    index_sql text[];
    statement text;
BEGIN
    IF current_setting('server_version_num')::int < 120000 THEN
        RAISE EXCEPTION 'partitioning scheduler_run needs PostgreSQL 12 or later';
    END IF;
    IF old IS NULL THEN
        RAISE EXCEPTION 'no table scheduler_run on the search_path (%): create the schema first',
            current_setting('search_path');
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = old) = 'p' THEN
        RAISE NOTICE 'scheduler_run is partitioned already: nothing to convert';
        RETURN;
    END IF;

    -- No scheduler may read or write runs until this transaction ends.
    LOCK TABLE scheduler_run IN ACCESS EXCLUSIVE MODE;

    -- What a rebuild would silently lose: refuse rather than guess.
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = old AND contype = 'f') THEN
        RAISE EXCEPTION 'a foreign key references scheduler_run: a partitioned scheduler_run '
            'has no unique key on id alone for it to reference; drop it first';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = old AND NOT tgisinternal) THEN
        RAISE EXCEPTION 'scheduler_run has triggers of its own: drop them first, and recreate '
            'them on the partitioned table afterwards';
    END IF;
    IF (SELECT relrowsecurity FROM pg_class WHERE oid = old) THEN
        RAISE EXCEPTION 'scheduler_run has row-level security: this script does not carry it over';
    END IF;

    SELECT nspname, pg_get_userbyid(relowner), relacl
    INTO schema_name, owner_name, acl
    FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
    WHERE pg_class.oid = old;

    -- Constraints other than the primary key (the slot constraint, the foreign
    -- key to scheduler_job, any check), and the indexes no constraint owns,
    -- as PostgreSQL itself describes them, to recreate word for word.
    SELECT coalesce(array_agg(
               format('ALTER TABLE %I.scheduler_run ADD CONSTRAINT %I %s',
                      schema_name, conname, pg_get_constraintdef(oid))
               ORDER BY conname), '{}')
    INTO constraint_sql
    FROM pg_constraint WHERE conrelid = old AND contype IN ('u', 'c', 'f', 'x');
    -- A unique index must contain the partition key too: Tickwork's own that
    -- does not (scheduler_run_upstream_uniq, on (job_id, upstream_run_id))
    -- gets scheduled_for as its last column.  Any other such index fails the
    -- conversion, as PostgreSQL says.
    SELECT coalesce(array_agg(
               CASE WHEN (SELECT relname FROM pg_class WHERE oid = indexrelid)
                         = 'scheduler_run_upstream_uniq'
                    THEN regexp_replace(pg_get_indexdef(indexrelid), '\)$', ', scheduled_for)')
                    ELSE pg_get_indexdef(indexrelid) END
               ORDER BY indexrelid::regclass::text), '{}')
    INTO index_sql
    FROM pg_index
    WHERE indrelid = old
      AND NOT EXISTS (SELECT 1 FROM pg_constraint
                      WHERE conindid = pg_index.indexrelid AND contype IN ('p', 'u', 'x'));

    -- Where the id sequence stands, and what kind it is.
    sequence_name := pg_get_serial_sequence(old::text, 'id');
    IF sequence_name IS NULL THEN
        RAISE EXCEPTION 'scheduler_run.id takes its values from no sequence of its own';
    END IF;
    is_identity := (SELECT attidentity <> '' FROM pg_attribute WHERE attrelid = old AND attname = 'id');
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s',
                   sequence_name)
    INTO next_id;
    SELECT count(*), greatest(next_id, coalesce(max(id), 0) + 1) INTO runs, next_id FROM scheduler_run;

    -- Set the old table aside, and free the names of its indexes.
    ALTER TABLE scheduler_run RENAME TO scheduler_run_unpartitioned;
    FOR statement IN
        SELECT format('ALTER TABLE scheduler_run_unpartitioned DROP CONSTRAINT %I', conname)
        FROM pg_constraint WHERE conrelid = old AND contype IN ('p', 'u', 'x')
    LOOP
        EXECUTE statement;
    END LOOP;
    FOR statement IN
        SELECT format('DROP INDEX %s', indexrelid::regclass) FROM pg_index WHERE indrelid = old
    LOOP
        EXECUTE statement;
    END LOOP;
    IF is_identity THEN
        -- The new table's identity gets a sequence of the old one's name.
        EXECUTE format('ALTER SEQUENCE %s RENAME TO scheduler_run_unpartitioned_id_seq', sequence_name);
    END IF;

    -- The partitioned table: the same columns, types, defaults and identity.
    EXECUTE format(
        'CREATE TABLE %I.scheduler_run (LIKE %I.scheduler_run_unpartitioned '
        'INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS) '
        'PARTITION BY RANGE (scheduled_for)',
        schema_name, schema_name);
    IF owner_name <> current_user THEN
        EXECUTE format('ALTER TABLE %I.scheduler_run OWNER TO %I', schema_name, owner_name);
    END IF;
    IF is_identity THEN
        EXECUTE format('ALTER TABLE %I.scheduler_run ALTER COLUMN id RESTART WITH %s',
                       schema_name, next_id);
    ELSE
        -- A serial: the default still calls the same sequence; it now belongs to the new table.
        EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.scheduler_run.id', sequence_name, schema_name);
        PERFORM setval(sequence_name, next_id, false);
    END IF;

    -- The partitions: DEFAULT, every month that has runs, this month and three more.
    EXECUTE format('CREATE TABLE %I.scheduler_run_default PARTITION OF %I.scheduler_run DEFAULT',
                   schema_name, schema_name);
    IF owner_name <> current_user THEN
        EXECUTE format('ALTER TABLE %I.scheduler_run_default OWNER TO %I', schema_name, owner_name);
    END IF;
    FOR run_month IN
        SELECT DISTINCT date_trunc('month', scheduled_for AT TIME ZONE 'UTC')::date
        FROM scheduler_run_unpartitioned
        ORDER BY 1
    LOOP
        PERFORM scheduler_run_create_partition(run_month);
    END LOOP;
    PERFORM scheduler_run_create_partitions(3);

    -- Every run, with its id.
    INSERT INTO scheduler_run SELECT * FROM scheduler_run_unpartitioned;
    GET DIAGNOSTICS copied = ROW_COUNT;
    IF copied <> runs THEN
        RAISE EXCEPTION 'copied % runs of %', copied, runs;
    END IF;

    -- Keys and indexes, built once the rows are in.
    EXECUTE format('ALTER TABLE %I.scheduler_run ADD CONSTRAINT scheduler_run_pkey '
                   'PRIMARY KEY (id, scheduled_for)', schema_name);
    FOREACH statement IN ARRAY constraint_sql LOOP
        EXECUTE statement;
    END LOOP;
    FOREACH statement IN ARRAY index_sql LOOP
        EXECUTE statement;
    END LOOP;

    -- The privileges granted on the old table (the owner's are implicit).
    FOR grant_row IN
        SELECT privilege_type, grantee, is_grantable FROM aclexplode(acl)
        WHERE grantee <> (SELECT relowner FROM pg_class WHERE oid = old)
    LOOP
        EXECUTE format('GRANT %s ON %I.scheduler_run TO %s%s',
                       grant_row.privilege_type, schema_name,
                       CASE WHEN grant_row.grantee = 0 THEN 'PUBLIC'
                            ELSE quote_ident(pg_get_userbyid(grant_row.grantee)) END,
                       CASE WHEN grant_row.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;

    DROP TABLE scheduler_run_unpartitioned;
    ANALYZE scheduler_run;

    RAISE NOTICE 'scheduler_run is partitioned by month: % runs kept, next id %', runs, next_id;
END;
$convert$;
