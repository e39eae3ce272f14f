-- ec2-inventory schema version 2, PostgreSQL: every instance write is ONE
-- Data API call of one of these functions (`SELECT ... FROM inventory_...`).
--
-- Why functions: the hosted Data API runs one statement per call, and one
-- statement runs in ONE snapshot. A single statement of data-modifying CTEs
-- could therefore neither see nor delete the links that a concurrent writer
-- of the same instance committed while it waited for the row lock, and the
-- instance ended up with the union of both sets. Inside a VOLATILE PL/pgSQL
-- function under READ COMMITTED (the Data API's default), each statement takes
-- a new snapshot. So each function first takes the instance row's lock (the
-- `ec2` upsert or update); every writer of that instance queues on it, and
-- the statements after it see everything the previous writer committed: the
-- last writer to commit leaves exactly its own set.
--
-- Statements end with `;` at the end of a line; a dollar-quoted body ($$ ...
-- $$) is kept whole, so each CREATE FUNCTION is one statement and one call.
-- Parameters are `p_...`; no colon may appear (the Data API reads `:name`
-- as a parameter).

-- Makes the package links of `p_id` exactly `p_packages` (a JSON array of
-- {"n": name, "v": version, "p": publisher?, "a": architecture?}, distinct by
-- name and version), upserting the packages; with `p_replace` false only
-- adds (the later chunks of an oversized write). The caller holds the row lock.
CREATE OR REPLACE FUNCTION inventory_link_packages(p_id text, p_packages json, p_replace boolean)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_names text[];
    v_versions text[];
    v_publishers text[];
    v_architectures text[];
    v_ids bigint[];
BEGIN
    SELECT coalesce(array_agg(j.e ->> 'n' ORDER BY j.ord), '{}'),
           coalesce(array_agg(j.e ->> 'v' ORDER BY j.ord), '{}'),
           coalesce(array_agg(j.e ->> 'p' ORDER BY j.ord), '{}'),
           coalesce(array_agg(j.e ->> 'a' ORDER BY j.ord), '{}')
    INTO v_names, v_versions, v_publishers, v_architectures
    FROM json_array_elements(p_packages) WITH ORDINALITY AS j(e, ord);
    -- New packages in the caller's (sorted) order, so that writers sharing
    -- new packages wait for each other instead of deadlocking. DO NOTHING
    -- leaves known rows unlocked: writers of different instances share them.
    INSERT INTO package (name, version, publisher, architecture)
    SELECT u.name, u.version, u.publisher, u.architecture
    FROM unnest(v_names, v_versions, v_publishers, v_architectures) WITH ORDINALITY
        AS u(name, version, publisher, architecture, ord)
    ORDER BY u.ord
    ON CONFLICT (name, version) DO NOTHING;
    -- Only rows whose publisher or architecture the input adds or changes.
    UPDATE package p
    SET publisher = coalesce(u.publisher, p.publisher),
        architecture = coalesce(u.architecture, p.architecture)
    FROM unnest(v_names, v_versions, v_publishers, v_architectures)
        AS u(name, version, publisher, architecture)
    WHERE p.name = u.name AND p.version = u.version
      AND ((u.publisher IS NOT NULL AND p.publisher IS DISTINCT FROM u.publisher)
        OR (u.architecture IS NOT NULL AND p.architecture IS DISTINCT FROM u.architecture));
    SELECT coalesce(array_agg(p.id), '{}') INTO v_ids
    FROM unnest(v_names, v_versions) AS u(name, version)
    JOIN package p ON p.name = u.name AND p.version = u.version;
    IF p_replace THEN
        DELETE FROM ec2_package
        WHERE ec2_id = p_id AND package_id NOT IN (SELECT unnest(v_ids));
    END IF;
    INSERT INTO ec2_package (ec2_id, package_id)
    SELECT p_id, unnest(v_ids)
    ON CONFLICT DO NOTHING;
END
$$;

-- POST (`p_mode` 'create': nothing when the id is recorded) and PUT ('put':
-- insert or replace every field and the package set). Answers 'created',
-- 'replaced' or 'skipped'. The `ec2` row is written first: its lock orders
-- the writers of one instance.
CREATE OR REPLACE FUNCTION inventory_write_instance(
    p_mode text, p_id text, p_account text, p_region text, p_state text,
    p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
    p_tags jsonb, p_source text, p_now timestamp, p_packages json)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_created boolean;
BEGIN
    IF p_mode = 'create' THEN
        INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
            launch_time, tags, source, created, updated, terminated_at, inventory_captured_at)
        VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
            p_launch_time, p_tags, p_source, p_now, p_now,
            CASE WHEN p_state = 'terminated' THEN p_now END, p_now)
        ON CONFLICT (id) DO NOTHING
        RETURNING true INTO v_created;
        IF v_created IS NULL THEN
            RETURN 'skipped';
        END IF;
    ELSE
        -- The request's fields win; `created` stays, and so does
        -- `terminated_at` while the instance stays terminated.
        INSERT INTO ec2 AS e (id, account, region, state, instance_type, image_id, platform,
            launch_time, tags, source, created, updated, terminated_at, inventory_captured_at)
        VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
            p_launch_time, p_tags, p_source, p_now, p_now,
            CASE WHEN p_state = 'terminated' THEN p_now END, p_now)
        ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region,
            state = EXCLUDED.state, instance_type = EXCLUDED.instance_type,
            image_id = EXCLUDED.image_id, platform = EXCLUDED.platform,
            launch_time = EXCLUDED.launch_time, tags = EXCLUDED.tags, source = EXCLUDED.source,
            updated = EXCLUDED.updated,
            terminated_at = CASE WHEN EXCLUDED.state = 'terminated'
                THEN coalesce(e.terminated_at, EXCLUDED.terminated_at) END,
            inventory_captured_at = EXCLUDED.inventory_captured_at
        RETURNING (xmax = 0) INTO v_created;
    END IF;
    -- A row just inserted has no links to replace.
    PERFORM inventory_link_packages(p_id, p_packages, NOT v_created);
    RETURN CASE WHEN v_created THEN 'created' ELSE 'replaced' END;
END
$$;

-- A package set from an inventory capture: written only when the capture is
-- newer than the stored one. Answers 'replaced' or 'skipped' (unknown
-- instance, or a capture as new or newer is stored).
CREATE OR REPLACE FUNCTION inventory_replace_packages(
    p_id text, p_captured_at timestamp, p_now timestamp, p_source text, p_packages json)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- UPDATE waits for the row lock, then re-checks the capture time on the
    -- newest row version: the newest capture wins.
    UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
    WHERE id = p_id
      AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
    IF NOT FOUND THEN
        RETURN 'skipped';
    END IF;
    PERFORM inventory_link_packages(p_id, p_packages, true);
    RETURN 'replaced';
END
$$;

-- A state event, with the packages SSM reported for a `running` one
-- (`p_packages` NULL: none). The state applies only when newer than the last
-- event applied; the packages when this event's state stands (just applied,
-- or a redelivery of it whose packages never arrived) and their capture is
-- newer than the stored one. Details only when `p_has_details`.
CREATE OR REPLACE FUNCTION inventory_apply_state(
    p_id text, p_account text, p_region text, p_state text,
    p_instance_type text, p_image_id text, p_platform text, p_launch_time timestamp,
    p_tags jsonb, p_source text, p_now timestamp, p_time timestamp, p_has_details boolean,
    p_captured_at timestamp, p_packages json)
RETURNS TABLE (state_applied boolean, packages_written boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_applied boolean;
BEGIN
    -- ON CONFLICT DO UPDATE locks the row even when its WHERE is false.
    INSERT INTO ec2 AS e (id, account, region, state, instance_type, image_id, platform,
        launch_time, tags, source, created, updated, terminated_at, last_event_time)
    VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
        p_launch_time, p_tags, p_source, p_now, p_now,
        CASE WHEN p_state = 'terminated' THEN p_time END, p_time)
    ON CONFLICT (id) DO UPDATE SET account = EXCLUDED.account, region = EXCLUDED.region,
        state = EXCLUDED.state,
        instance_type = CASE WHEN p_has_details THEN EXCLUDED.instance_type ELSE e.instance_type END,
        image_id = CASE WHEN p_has_details THEN EXCLUDED.image_id ELSE e.image_id END,
        platform = CASE WHEN p_has_details THEN EXCLUDED.platform ELSE e.platform END,
        launch_time = CASE WHEN p_has_details THEN EXCLUDED.launch_time ELSE e.launch_time END,
        tags = CASE WHEN p_has_details THEN EXCLUDED.tags ELSE e.tags END,
        source = EXCLUDED.source, updated = EXCLUDED.updated,
        terminated_at = CASE WHEN EXCLUDED.state = 'terminated'
            THEN coalesce(e.terminated_at, EXCLUDED.terminated_at) ELSE e.terminated_at END,
        last_event_time = EXCLUDED.last_event_time
    WHERE e.last_event_time IS NULL OR e.last_event_time < EXCLUDED.last_event_time
    RETURNING true INTO v_applied;
    state_applied = coalesce(v_applied, false);
    packages_written = false;
    IF p_packages IS NOT NULL THEN
        UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
        WHERE id = p_id AND state = 'running' AND last_event_time = p_time
          AND (state_applied OR inventory_captured_at IS NULL)
          AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
        IF FOUND THEN
            PERFORM inventory_link_packages(p_id, p_packages, true);
            packages_written = true;
        END IF;
    END IF;
    RETURN NEXT;
END
$$;
