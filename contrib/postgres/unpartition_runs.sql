-- Tickwork: undo partition_runs.sql; scheduler_run becomes one plain table again.
--
-- Guide: docs/how-to/partition-run-history.md.  Back up first, stop every
-- scheduler on the database, then run, as the owner of scheduler_run or a
-- superuser:
--
--     psql -v ON_ERROR_STOP=1 --single-transaction -f unpartition_runs.sql "$DATABASE_URL"
--
-- Every run still attached (the month partitions and the DEFAULT one) is
-- copied, with its id, into a plain scheduler_run with the primary key on id
-- alone, as Tickwork creates it; the other constraints and indexes come back
-- under their names, the id sequence goes on from where it stood, the owner
-- and the privileges carry over.  The partitions are dropped with the
-- partitioned table, and the maintenance functions of partition_runs.sql
-- too.  Partitions detached earlier are tables of their own and stay as they
-- are.  On a table that is not partitioned this does nothing.

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
    constraint_sql text[];
    index_sql text[];
    statement text;
BEGIN
    IF old IS NULL THEN
        RAISE EXCEPTION 'no table scheduler_run on the search_path (%)', current_setting('search_path');
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = old) <> 'p' THEN
        RAISE NOTICE 'scheduler_run is not partitioned: nothing to undo';
        RETURN;
    END IF;

    LOCK TABLE scheduler_run IN ACCESS EXCLUSIVE MODE;

    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = old AND NOT tgisinternal) THEN
        RAISE EXCEPTION 'scheduler_run has triggers of its own: drop them first, and recreate '
            'them on the plain table afterwards';
    END IF;
    IF (SELECT relrowsecurity FROM pg_class WHERE oid = old) THEN
        RAISE EXCEPTION 'scheduler_run has row-level security: this script does not carry it over';
    END IF;

    SELECT nspname, pg_get_userbyid(relowner), relacl
    INTO schema_name, owner_name, acl
    FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
    WHERE pg_class.oid = old;

    -- The partitioned table's own constraints and indexes, except the primary key.
    SELECT coalesce(array_agg(
               format('ALTER TABLE %I.scheduler_run ADD CONSTRAINT %I %s',
                      schema_name, conname, pg_get_constraintdef(oid))
               ORDER BY conname), '{}')
    INTO constraint_sql
    FROM pg_constraint WHERE conrelid = old AND contype IN ('u', 'c', 'f', 'x');
    SELECT coalesce(array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid::regclass::text), '{}')
    INTO index_sql
    FROM pg_index
    WHERE indrelid = old
      AND NOT EXISTS (SELECT 1 FROM pg_constraint
                      WHERE conindid = pg_index.indexrelid AND contype IN ('p', 'u', 'x'));

    sequence_name := pg_get_serial_sequence(old::text, 'id');
    IF sequence_name IS NULL THEN
        RAISE EXCEPTION 'scheduler_run.id takes its values from no sequence of its own';
    END IF;
    is_identity := (SELECT attidentity <> '' FROM pg_attribute WHERE attrelid = old AND attname = 'id');
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s',
                   sequence_name)
    INTO next_id;
    SELECT count(*), greatest(next_id, coalesce(max(id), 0) + 1) INTO runs, next_id FROM scheduler_run;

    -- Set the partitioned table aside, and free the names of its indexes
    -- (dropping a partitioned index drops its partitions' indexes too).
    ALTER TABLE scheduler_run RENAME TO scheduler_run_partitioned;
    FOR statement IN
        SELECT format('ALTER TABLE scheduler_run_partitioned DROP CONSTRAINT %I', conname)
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
        EXECUTE format('ALTER SEQUENCE %s RENAME TO scheduler_run_partitioned_id_seq', sequence_name);
    END IF;

    EXECUTE format(
        'CREATE TABLE %I.scheduler_run (LIKE %I.scheduler_run_partitioned '
        'INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS)',
        schema_name, schema_name);
    IF owner_name <> current_user THEN
        EXECUTE format('ALTER TABLE %I.scheduler_run OWNER TO %I', schema_name, owner_name);
    END IF;
    IF is_identity THEN
        EXECUTE format('ALTER TABLE %I.scheduler_run ALTER COLUMN id RESTART WITH %s',
                       schema_name, next_id);
    ELSE
        EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.scheduler_run.id', sequence_name, schema_name);
        PERFORM setval(sequence_name, next_id, false);
    END IF;

    INSERT INTO scheduler_run SELECT * FROM scheduler_run_partitioned;
    GET DIAGNOSTICS copied = ROW_COUNT;
    IF copied <> runs THEN
        RAISE EXCEPTION 'copied % runs of %', copied, runs;
    END IF;

    EXECUTE format('ALTER TABLE %I.scheduler_run ADD CONSTRAINT scheduler_run_pkey PRIMARY KEY (id)',
                   schema_name);
    FOREACH statement IN ARRAY constraint_sql LOOP
        EXECUTE statement;
    END LOOP;
    FOREACH statement IN ARRAY index_sql LOOP
        EXECUTE statement;
    END LOOP;

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

    DROP TABLE scheduler_run_partitioned;
    DROP FUNCTION IF EXISTS scheduler_run_create_partitions(integer);
    DROP FUNCTION IF EXISTS scheduler_run_create_partition(date);
    DROP FUNCTION IF EXISTS scheduler_run_drop_partitions(interval, boolean);
    ANALYZE scheduler_run;

    RAISE NOTICE 'scheduler_run is one table again: % runs kept, next id %', runs, next_id;
END;
$convert$;
