-- Schema 7, PostgreSQL: the package links lose their foreign keys.
-- PostgreSQL checks a foreign key with a query and a lock of the referenced
-- row for every row inserted: 2,000 of them for a 1,000-package write, a
-- third of what that write cost the database (measured with the store
-- bench, docs/performance.md). What the keys guarded stays true:
-- - a link's package exists: packages are never deleted;
-- - a link's instance exists: every write links packages while it holds
--   its instance row's lock (ddl/postgres/routines.sql), and the links of
--   a deleted instance go with it, by the trigger below, as ON DELETE
--   CASCADE did. Like the cascade, the trigger's DELETE takes a snapshot of
--   its own: a delete that waited on a writer's lock removes the links
--   that writer committed too (a single statement of data-modifying CTEs,
--   which shares one snapshot, would leave them behind).

ALTER TABLE ec2_package DROP CONSTRAINT IF EXISTS ec2_package_package_id_fkey;

ALTER TABLE ec2_package DROP CONSTRAINT IF EXISTS ec2_package_ec2_id_fkey;

CREATE FUNCTION inventory_unlink_deleted() RETURNS trigger LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    DELETE FROM ec2_package WHERE ec2_id = OLD.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER ec2_unlink_deleted AFTER DELETE ON ec2
FOR EACH ROW EXECUTE FUNCTION inventory_unlink_deleted();
