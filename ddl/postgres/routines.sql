-- The write routines, PostgreSQL: every instance write is ONE Data API call
-- of one of these functions (`SELECT ... FROM inventory_...`). This file
-- holds their current definition; `inventory migrate` applies it again
-- whenever it changed (by its checksum), and after any pending versioned
-- file, in that file's transaction. A change of a function's arguments
-- comes with a versioned file that drops the old signature.
--
-- Why functions: the hosted Data API runs one statement per call, and one
-- statement runs in ONE snapshot. A single statement of data-modifying CTEs
-- could therefore neither see nor delete the links that a concurrent writer
-- of the same instance committed while it waited for the row lock, and the
-- instance ended up with the union of both sets. Inside a VOLATILE PL/pgSQL
-- function under READ COMMITTED (the Data API's default), each statement takes
-- a new snapshot. So each function first takes the instance row's lock
-- (`inventory_lock_instance`, or the capture's UPDATE); every writer of that
-- instance queues on it, and the statements after it see everything the
-- previous writer committed: the last writer to commit leaves exactly its
-- own set.
--
-- Statements end with `;` at the end of a line; a dollar-quoted body ($$ ...
-- $$) is kept whole, so each CREATE FUNCTION is one statement and one call.
-- Parameters are `p_...`; no colon may appear (the Data API reads `:name`
-- as a parameter).

-- The advisory locks of the findings: shared by a write that inserts
-- packages, exclusive while an import matches its ranges (see
-- inventory_link_packages); and one import at a time.
CREATE OR REPLACE FUNCTION inventory_findings_lock() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 7411960006 $$;

CREATE OR REPLACE FUNCTION inventory_import_lock() RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT 7411960007 $$;

-- Makes the package links of `p_id` exactly `p_packages` (JSON array of
-- {"n", "v", "p"?, "a"?, "s"?: source package, "k": version_key}, distinct
-- by name and version), inserting new packages of scheme `p_scheme`, and
-- records what changed at `p_at` from `p_source`. With `p_replace` false
-- only adds: a first write or a further chunk of an oversized write, which
-- takes back what the first chunk recorded as removed. An instance without
-- links records every package as installed, without a diff; an unchanged
-- set records nothing. The caller holds the row lock.
--
-- A first write of known packages (the instance has no links, and the list
-- brings no publisher, architecture or source to compare) links them
-- straight from the list and records each as installed: each package is
-- looked up once, in the links' insert, with no arrays of ids in between.
-- A package without its sort key (recorded before schema 004) is not
-- joined, so that it takes the path below, which stores the key. When
-- fewer rows were linked than listed, some packages are new or keyless:
-- those links are taken back, and the call goes on as every other write
-- does.
--
-- Each package is looked up once, for its id and whether the input adds
-- or changes its publisher, architecture or source, or brings the sort key
-- of a package recorded before schema 004; only new and changed packages
-- are written. Package ids are joined from unnest() (a hash or index join
-- whatever the sizes) rather than tested with = ANY, which a plan may
-- evaluate row by row against the whole array.
--
-- New and changed packages get their findings (the view `package_match`,
-- schema 006) in the same call. An import matches its new ranges against
-- every package while it holds the advisory lock `inventory_findings_lock()`
-- exclusively; a write that inserted or changed packages takes it shared
-- before matching them, so either the import's matching sees the write's
-- committed packages, or the write's matching runs after the import
-- committed and sees its ranges.
CREATE OR REPLACE FUNCTION inventory_link_packages(
    p_id text, p_packages json, p_replace boolean, p_source text, p_at timestamp,
    p_scheme text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_names text[];
    v_versions text[];
    v_publishers text[];
    v_architectures text[];
    v_sources text[];
    v_keys text[];
    v_ids bigint[];
    v_stale boolean[];
    v_new boolean;
    v_inserted bigint[] = '{}';
    v_changed bigint[] = '{}';
    v_linked bigint[];
    v_came bigint[];
    v_gone bigint[];
    v_count bigint;
BEGIN
    -- One parse of the list: `->>` on each element of `json` parsed the
    -- element's text again for every field. The aggregates of one
    -- statement take the same rows in the same order, so the arrays stay
    -- aligned without sorting each; nothing below needs the list's order.
    SELECT coalesce(array_agg(j.n), '{}'), coalesce(array_agg(j.v), '{}'),
           coalesce(array_agg(j.p), '{}'), coalesce(array_agg(j.a), '{}'),
           coalesce(array_agg(j.s), '{}'), coalesce(array_agg(j.k), '{}')
    INTO v_names, v_versions, v_publishers, v_architectures, v_sources, v_keys
    FROM json_to_recordset(p_packages) AS j(n text, v text, p text, a text, s text, k text);
    IF NOT EXISTS (SELECT 1 FROM ec2_package WHERE ec2_id = p_id)
       AND array_remove(v_publishers, NULL) = '{}'
       AND array_remove(v_architectures, NULL) = '{}'
       AND array_remove(v_sources, NULL) = '{}' THEN
        INSERT INTO ec2_package (ec2_id, package_id)
        SELECT p_id, p.id
        FROM unnest(v_names, v_versions) AS u(name, version)
        JOIN package p ON p.name = u.name AND p.version = u.version AND p.scheme = p_scheme
            AND p.version_key IS NOT NULL;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        IF v_count = cardinality(v_names) THEN
            INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
                new_version)
            SELECT p_id, p_at, p_source, 'installed', u.name, NULL, u.version
            FROM unnest(v_names, v_versions) AS u(name, version);
            RETURN;
        END IF;
        DELETE FROM ec2_package WHERE ec2_id = p_id;
    END IF;
    FOR looked IN 1..2 LOOP
        SELECT coalesce(array_agg(p.id ORDER BY u.ord), '{}'),
               coalesce(array_agg(
                   (u.publisher IS NOT NULL AND p.publisher IS DISTINCT FROM u.publisher)
                   OR (u.architecture IS NOT NULL AND p.architecture IS DISTINCT FROM u.architecture)
                   OR (u.source_name IS NOT NULL AND p.source_name IS DISTINCT FROM u.source_name)
                   OR (p.version_key IS NULL AND u.version_key IS NOT NULL) ORDER BY u.ord), '{}'),
               coalesce(bool_or(p.id IS NULL), false)
        INTO v_ids, v_stale, v_new
        FROM unnest(v_names, v_versions, v_publishers, v_architectures, v_sources, v_keys)
            WITH ORDINALITY
            AS u(name, version, publisher, architecture, source_name, version_key, ord)
        LEFT JOIN package p ON p.name = u.name AND p.version = u.version AND p.scheme = p_scheme;
        EXIT WHEN NOT v_new OR looked = 2;
        -- New packages in name and version order, so that writers
        -- sharing new packages wait for each other instead of deadlocking.
        -- DO NOTHING leaves known rows unlocked: writers of different
        -- instances share them. Then look again: a concurrent writer may
        -- have inserted some first, with other publishers.
        WITH inserted AS (
            INSERT INTO package (name, version, scheme, publisher, architecture, source_name,
                version_key)
            SELECT u.name, u.version, p_scheme, u.publisher, u.architecture, u.source_name,
                u.version_key
            FROM unnest(v_names, v_versions, v_publishers, v_architectures, v_sources, v_keys)
                WITH ORDINALITY
                AS u(name, version, publisher, architecture, source_name, version_key, ord)
            WHERE v_ids[u.ord] IS NULL
            ORDER BY u.name, u.version
            ON CONFLICT (name, version, scheme) DO NOTHING
            RETURNING id
        )
        SELECT coalesce(array_agg(id), '{}') INTO v_inserted FROM inserted;
    END LOOP;
    IF true = ANY (v_stale) THEN
        WITH changed AS (
            UPDATE package p
            SET publisher = coalesce(u.publisher, p.publisher),
                architecture = coalesce(u.architecture, p.architecture),
                source_name = coalesce(u.source_name, p.source_name),
                version_key = coalesce(p.version_key, u.version_key)
            FROM unnest(v_ids, v_stale, v_publishers, v_architectures, v_sources, v_keys)
                AS u(id, stale, publisher, architecture, source_name, version_key)
            WHERE p.id = u.id AND u.stale
            RETURNING p.id
        )
        SELECT coalesce(array_agg(id), '{}') INTO v_changed FROM changed;
    END IF;
    -- The findings of the packages inserted, and again of those whose key or
    -- source may have changed.
    IF v_inserted <> '{}' OR v_changed <> '{}' THEN
        PERFORM pg_advisory_xact_lock_shared(inventory_findings_lock());
        DELETE FROM package_finding WHERE package_id = ANY(v_changed);
        INSERT INTO package_finding (package_id, range_id, matched_by)
        SELECT m.package_id, m.range_id, m.matched_by
        FROM package_match m
        WHERE m.package_id = ANY(v_inserted || v_changed)
        ON CONFLICT DO NOTHING;
    END IF;
    SELECT coalesce(array_agg(ep.package_id), '{}') INTO v_linked
    FROM ec2_package ep WHERE ep.ec2_id = p_id;
    IF v_linked = '{}' THEN
        -- No links yet (a first write, or an instance that had none): every
        -- package is an install and there is nothing to diff. A further
        -- chunk always finds the first chunk's links.
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
        SELECT p_id, p_at, p_source, 'installed', u.name, NULL, u.version
        FROM unnest(v_names, v_versions) AS u(name, version);
        INSERT INTO ec2_package (ec2_id, package_id)
        SELECT p_id, w.id FROM unnest(v_ids) AS w(id);
        RETURN;
    END IF;
    -- What comes and goes are set differences of id arrays (EXCEPT hashes or
    -- sorts): an anti-join planned from stale statistics (a fresh or fast
    -- growing table looks nearly empty) became a nested loop, O(N x links),
    -- 1.5 s to replace 10,000 packages.
    v_came = ARRAY(SELECT unnest(v_ids) EXCEPT SELECT unnest(v_linked));
    v_gone = CASE WHEN p_replace
        THEN ARRAY(SELECT unnest(v_linked) EXCEPT SELECT unnest(v_ids)) ELSE '{}' END;
    IF v_came = '{}' AND v_gone = '{}' THEN
        RETURN;
    END IF;
    IF p_replace THEN
        -- The changes, against the links before they change. A name with
        -- one version gone and one come changed version. A link that moves
        -- to another row of the same name and version (the instance's
        -- scheme changed) is no change.
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
        WITH unlinked AS (
            SELECT p.name, p.version FROM unnest(v_gone) AS g(id) JOIN package p ON p.id = g.id
        ), linked AS (
            SELECT p.name, p.version FROM unnest(v_came) AS c(id) JOIN package p ON p.id = c.id
        ), gone AS (
            SELECT name, version FROM unlinked EXCEPT SELECT name, version FROM linked
        ), came AS (
            SELECT name, version FROM linked EXCEPT SELECT name, version FROM unlinked
        ), changed AS (
            SELECT g.name, min(g.version) AS old_version, min(c.version) AS new_version
            FROM gone g JOIN came c ON c.name = g.name
            GROUP BY g.name HAVING count(DISTINCT g.version) = 1 AND count(DISTINCT c.version) = 1
        )
        SELECT p_id, p_at, p_source, 'changed', name, old_version, new_version FROM changed
        UNION ALL
        SELECT p_id, p_at, p_source, 'removed', name, version, NULL FROM gone
        WHERE name NOT IN (SELECT name FROM changed)
        UNION ALL
        SELECT p_id, p_at, p_source, 'installed', name, NULL, version FROM came
        WHERE name NOT IN (SELECT name FROM changed);
        DELETE FROM ec2_package ep
        USING unnest(v_gone) AS g(id)
        WHERE ep.ec2_id = p_id AND ep.package_id = g.id;
    ELSE
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
        SELECT p_id, p_at, p_source, 'installed', p.name, NULL, p.version
        FROM unnest(v_came) AS c(id)
        JOIN package p ON p.id = c.id
        WHERE NOT EXISTS (
              SELECT 1 FROM ec2_history h
              WHERE h.ec2_id = p_id AND h.changed_at = p_at AND h.kind IN ('removed', 'changed')
                AND h.package_name = p.name AND h.old_version = p.version);
        -- A further chunk of an oversized write: a package the first chunk
        -- recorded as removed (or as the old side of a change) was kept.
        IF EXISTS (
            SELECT 1 FROM ec2_history h
            WHERE h.ec2_id = p_id AND h.changed_at = p_at AND h.kind IN ('removed', 'changed')
        ) THEN
            DELETE FROM ec2_history h
            USING unnest(v_ids) AS w(id) JOIN package p ON p.id = w.id
            WHERE h.ec2_id = p_id AND h.changed_at = p_at
              AND h.kind = 'removed' AND h.package_name = p.name AND h.old_version = p.version;
            UPDATE ec2_history h SET kind = 'installed', old_version = NULL
            FROM unnest(v_ids) AS w(id) JOIN package p ON p.id = w.id
            WHERE h.ec2_id = p_id AND h.changed_at = p_at
              AND h.kind = 'changed' AND h.package_name = p.name AND h.old_version = p.version;
        END IF;
    END IF;
    -- Only the new links: the ones kept are there already (the caller holds
    -- the row lock, so nobody else links this instance meanwhile).
    INSERT INTO ec2_package (ec2_id, package_id)
    SELECT p_id, c.id FROM unnest(v_came) AS c(id);
END
$$;

-- Takes the lock of instance `p_id`'s row, inserting the row with the given
-- columns when the id is new (`terminated_at` is `p_at`, the write's time,
-- when the state is 'terminated'), and answers the state stored before
-- (`old_state`, NULL when new) and whether this call inserted the row. When a
-- concurrent writer inserts the same new id first, the call waits for that
-- writer's row and answers as for a known instance: the writers of one
-- instance queue here, in the order they take the lock. The call returns
-- only holding the row: `ON CONFLICT DO NOTHING` locks nothing, so a DELETE
-- can remove the row it met before this call locks it, and the call then
-- looks again (it used to go on without a lock, and link the instance
-- beside the writer that inserted it anew).
CREATE OR REPLACE FUNCTION inventory_lock_instance(
    p_id text, p_account text, p_region text, p_state text,
    p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
    p_tags jsonb, p_source text, p_now timestamp, p_at timestamp,
    p_captured_at timestamp, p_event_time timestamp,
    p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text,
    OUT old_state text, OUT inserted boolean)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    LOOP
        SELECT e.state INTO old_state FROM ec2 e WHERE e.id = p_id FOR UPDATE;
        IF FOUND THEN
            inserted = false;
            RETURN;
        END IF;
        INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
            launch_time, tags, source, created, updated, terminated_at, inventory_captured_at,
            last_event_time, platform_name, platform_version, os_release, version_scheme)
        VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
            p_launch_time, p_tags, p_source, p_now, p_now,
            CASE WHEN p_state = 'terminated' THEN p_at END, p_captured_at, p_event_time,
            p_platform_name, p_platform_version, p_os_release, p_version_scheme)
        ON CONFLICT (id) DO NOTHING
        RETURNING true INTO inserted;
        IF inserted THEN
            RETURN;
        END IF;
    END LOOP;
END
$$;

-- POST (`p_mode` 'create': nothing when the id is recorded) and PUT ('put':
-- insert or replace every field and the package set, whose versions are
-- keyed in `p_version_scheme`). Answers 'created', 'replaced' or 'skipped'.
CREATE OR REPLACE FUNCTION inventory_write_instance(
    p_mode text, p_id text, p_account text, p_region text, p_state text,
    p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
    p_tags jsonb, p_source text, p_now timestamp, p_packages json,
    p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_old_state text;
    v_inserted boolean;
BEGIN
    SELECT l.old_state, l.inserted INTO v_old_state, v_inserted
    FROM inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type,
        p_image_id, p_platform, p_launch_time, p_tags, p_source, p_now, p_now, p_now, NULL,
        p_platform_name, p_platform_version, p_os_release, p_version_scheme) AS l;
    IF NOT v_inserted AND p_mode = 'create' THEN
        RETURN 'skipped';
    ELSIF NOT v_inserted THEN
        -- The request's fields win; `created` stays, and so does
        -- `terminated_at` while the instance stays terminated.
        UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
            instance_type = p_instance_type, image_id = p_image_id, platform = p_platform,
            launch_time = p_launch_time, tags = p_tags, source = p_source, updated = p_now,
            terminated_at = CASE WHEN p_state = 'terminated'
                THEN coalesce(terminated_at, p_now) END,
            inventory_captured_at = p_now, platform_name = p_platform_name,
            platform_version = p_platform_version, os_release = p_os_release,
            version_scheme = p_version_scheme
        WHERE id = p_id;
    END IF;
    IF v_old_state IS DISTINCT FROM p_state THEN
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
        VALUES (p_id, p_now, p_source, 'state', v_old_state, p_state);
    END IF;
    -- A row just inserted has no links to replace.
    PERFORM inventory_link_packages(p_id, p_packages, NOT v_inserted, p_source, p_now,
        p_version_scheme);
    RETURN CASE WHEN v_inserted THEN 'created' ELSE 'replaced' END;
END
$$;

-- A package set from an inventory capture: written only when the capture is
-- newer than the stored one, with the OS release the capture reported (NULL:
-- the stored one stays). Answers 'replaced' or 'skipped' (unknown instance,
-- or a capture as new or newer is stored).
CREATE OR REPLACE FUNCTION inventory_replace_packages(
    p_id text, p_captured_at timestamp, p_now timestamp, p_source text, p_packages json,
    p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- UPDATE waits for the row lock, then re-checks the capture time on the
    -- newest row version: the newest capture wins.
    UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
        platform_name = coalesce(p_platform_name, platform_name),
        platform_version = coalesce(p_platform_version, platform_version),
        os_release = coalesce(p_os_release, os_release), version_scheme = p_version_scheme
    WHERE id = p_id
      AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
    IF NOT FOUND THEN
        RETURN 'skipped';
    END IF;
    PERFORM inventory_link_packages(p_id, p_packages, true, p_source, p_captured_at,
        p_version_scheme);
    RETURN 'replaced';
END
$$;

-- A state event, with the packages SSM reported for a `running` one
-- (`p_packages` NULL: none). The state applies only when newer than the last
-- event applied, and is recorded in the history when it differs from the
-- stored one; the packages when this event's state stands (just applied,
-- or a redelivery of it whose packages never arrived) and their capture is
-- newer than the stored one, with the OS release the capture reported.
-- Details only when `p_has_details`.
CREATE OR REPLACE FUNCTION inventory_apply_state(
    p_id text, p_account text, p_region text, p_state text,
    p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
    p_tags jsonb, p_source text, p_now timestamp, p_time timestamp, p_has_details boolean,
    p_captured_at timestamp, p_packages json,
    p_platform_name text, p_platform_version text, p_os_release text, p_version_scheme text)
RETURNS TABLE (state_applied boolean, packages_written boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_old_state text;
BEGIN
    SELECT l.old_state, l.inserted INTO v_old_state, state_applied
    FROM inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type,
        p_image_id, p_platform, p_launch_time, p_tags, p_source, p_now, p_time, NULL, p_time,
        NULL, NULL, NULL, NULL) AS l;
    IF NOT state_applied THEN
        -- Known, or inserted first by a concurrent event: an update, applied
        -- only when this event is newer than the last one applied.
        UPDATE ec2 e SET account = p_account, region = p_region, state = p_state,
            instance_type = CASE WHEN p_has_details THEN p_instance_type ELSE e.instance_type END,
            image_id = CASE WHEN p_has_details THEN p_image_id ELSE e.image_id END,
            platform = CASE WHEN p_has_details THEN p_platform ELSE e.platform END,
            launch_time = CASE WHEN p_has_details THEN p_launch_time ELSE e.launch_time END,
            tags = CASE WHEN p_has_details THEN p_tags ELSE e.tags END,
            source = p_source, updated = p_now,
            terminated_at = CASE WHEN p_state = 'terminated'
                THEN coalesce(e.terminated_at, p_time) ELSE e.terminated_at END,
            last_event_time = p_time
        WHERE e.id = p_id AND (e.last_event_time IS NULL OR e.last_event_time < p_time);
        state_applied = FOUND;
    END IF;
    IF state_applied AND v_old_state IS DISTINCT FROM p_state THEN
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
        VALUES (p_id, p_time, p_source, 'state', v_old_state, p_state);
    END IF;
    packages_written = false;
    IF p_packages IS NOT NULL THEN
        UPDATE ec2 e SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
            platform_name = coalesce(p_platform_name, e.platform_name),
            platform_version = coalesce(p_platform_version, e.platform_version),
            os_release = coalesce(p_os_release, e.os_release), version_scheme = p_version_scheme
        WHERE e.id = p_id AND e.state = 'running' AND e.last_event_time = p_time
          AND (state_applied OR e.inventory_captured_at IS NULL)
          AND (e.inventory_captured_at IS NULL OR e.inventory_captured_at < p_captured_at);
        IF FOUND THEN
            PERFORM inventory_link_packages(p_id, p_packages, true, p_source, p_captured_at,
                p_version_scheme);
            packages_written = true;
        END IF;
    END IF;
    RETURN NEXT;
END
$$;
-- Recounts the fleet's counts (schema 010) when the claim on `fleet_tally`
-- succeeds: when they were never counted, or counted before
-- `p_stale_before`. A concurrent caller waits on the row lock and, once the
-- first commits, finds the counts fresh and recounts nothing. Answers
-- whether this call counted. The reads take MVCC snapshots: writers do not
-- wait for a recount. `package_spread` keeps the `p_names` names with the
-- most links (as many as a read may ask for): links are counted per package
-- in one pass, and the distinct instances only for those names (a sort of
-- every link by name took seconds).
CREATE OR REPLACE FUNCTION inventory_count_fleet(
    p_stale_before timestamp, p_now timestamp, p_names bigint)
RETURNS TABLE (counted boolean) LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    UPDATE fleet_tally SET counted_at = p_now
    WHERE id = 1 AND (counted_at IS NULL OR counted_at < p_stale_before);
    counted = FOUND;
    IF counted THEN
        DELETE FROM advisory_exposure;
        INSERT INTO advisory_exposure (advisory_id, account, region, state, instances)
        SELECT r.advisory_id, e.account, e.region, e.state, count(DISTINCT ep.ec2_id)
        FROM advisory_range r
        JOIN package_finding f ON f.range_id = r.id
        JOIN ec2_package ep ON ep.package_id = f.package_id
        JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
        GROUP BY r.advisory_id, e.account, e.region, e.state;
        DELETE FROM package_spread;
        INSERT INTO package_spread (name, installs, instances, versions)
        SELECT r.name, r.installs,
            (SELECT count(DISTINCT ep.ec2_id)
             FROM package p JOIN ec2_package ep ON ep.package_id = p.id
             WHERE p.name = r.name),
            r.versions
        FROM (
            SELECT p.name, sum(links.installs) AS installs, count(*) AS versions
            FROM (SELECT ep.package_id, count(*) AS installs
                  FROM ec2_package ep GROUP BY ep.package_id) links
            JOIN package p ON p.id = links.package_id
            GROUP BY p.name
            ORDER BY installs DESC, p.name
            LIMIT p_names
        ) r;
    END IF;
    RETURN NEXT;
END
$$;
