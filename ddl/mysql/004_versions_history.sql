-- Schema 004, MySQL 8 / MariaDB 10.6+: version sort keys and the history of
-- changes (see ddl/postgres/004_versions_history.sql for the model). The
-- sort key is VARBINARY: compared byte for byte, trailing spaces included.
-- MySQL commits DDL as it goes: the column is added by a procedure that
-- looks first (MySQL 8 has no ADD COLUMN IF NOT EXISTS), the rest is
-- IF NOT EXISTS or DROP then CREATE, so a rerun of this file is safe.

DROP PROCEDURE IF EXISTS inventory_add_version_key;

DELIMITER //

CREATE PROCEDURE inventory_add_version_key()
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = DATABASE() AND table_name = 'package' AND column_name = 'version_key'
    ) THEN
        ALTER TABLE package ADD COLUMN version_key VARBINARY(700) NULL,
            ADD KEY package_name_version_key (name, version_key);
    END IF;
END //

DELIMITER ;

CALL inventory_add_version_key();

DROP PROCEDURE inventory_add_version_key;

CREATE TABLE IF NOT EXISTS ec2_history (
    id BIGINT NOT NULL AUTO_INCREMENT,
    ec2_id VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    changed_at DATETIME(6) NOT NULL,
    source VARCHAR(8) CHARACTER SET ascii NOT NULL,
    kind VARCHAR(9) CHARACTER SET ascii NOT NULL,
    package_name VARCHAR(255) NULL,
    old_version VARCHAR(128) NULL,
    new_version VARCHAR(128) NULL,
    old_state VARCHAR(16) CHARACTER SET ascii NULL,
    new_state VARCHAR(16) CHARACTER SET ascii NULL,
    PRIMARY KEY (id),
    KEY ec2_history_instance (ec2_id, changed_at, id),
    KEY ec2_history_package (package_name, changed_at, id),
    KEY ec2_history_at (changed_at),
    CONSTRAINT ec2_history_source CHECK (source IN ('event', 'api', 'sync')),
    CONSTRAINT ec2_history_kind CHECK (kind IN ('installed', 'removed', 'changed', 'state'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

DROP PROCEDURE IF EXISTS inventory_link_packages;

DROP PROCEDURE IF EXISTS inventory_write_instance;

DROP PROCEDURE IF EXISTS inventory_replace_packages;

DROP PROCEDURE IF EXISTS inventory_apply_state;

DELIMITER //

-- Makes the package links of `p_id` exactly `p_packages` (a JSON array of
-- {"n", "v", "p"?, "a"?, "k": version_key, "h": name_version_hash in hex},
-- distinct by name and version), inserting new packages, and records what
-- changed at `p_at` from `p_source`. With `p_replace` false only adds: a
-- first write (every package installed) or a further chunk of an oversized
-- write, which takes back what the first chunk recorded as removed. The
-- caller holds the row lock. JSON first in every join (see schema 002).
--
-- The wanted packages, and the links gone and come, are temporary tables
-- with keys: the optimizer re-evaluated JSON_TABLE (or a CTE over it) once
-- per link in a join, O(links x N), seconds at 1,000 packages. Each statement
-- names each temporary table once (MySQL cannot reopen one in a statement).
-- They live in the call's session and are dropped before the call ends.
CREATE PROCEDURE inventory_link_packages(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_packages LONGTEXT, IN p_replace BOOLEAN,
    IN p_source VARCHAR(8), IN p_at DATETIME(6))
BEGIN
    DECLARE v_changed INT;
    -- New packages, in the caller's (sorted) order. NOT EXISTS skips the
    -- known ones cheaply; IGNORE only settles a race with a concurrent
    -- writer inserting the same new package.
    INSERT IGNORE INTO package (name, version, publisher, architecture, version_key)
    SELECT j.name, j.version, j.publisher, j.architecture, j.version_key
    FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY, h CHAR(64) PATH '$.h',
        name VARCHAR(255) PATH '$.n', version VARCHAR(128) PATH '$.v',
        publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
        version_key VARCHAR(700) PATH '$.k')) AS j
    WHERE NOT EXISTS (
        SELECT 1 FROM package k
        WHERE k.name_version_hash = UNHEX(j.h))
    ORDER BY j.ord;
    -- A publisher or architecture the input adds or changes, or a package
    -- without a sort key yet (recorded before schema 004): rare, so look
    -- first, and only then update (which locks the rows it reads).
    SELECT COUNT(*) INTO v_changed
    FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h',
        publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
        version_key VARCHAR(700) PATH '$.k')) AS j
    STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h)
    WHERE (j.publisher IS NOT NULL AND NOT (j.publisher <=> p.publisher))
       OR (j.architecture IS NOT NULL AND NOT (j.architecture <=> p.architecture))
       OR (p.version_key IS NULL AND j.version_key IS NOT NULL);
    IF v_changed > 0 THEN
        UPDATE JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h',
            publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
            version_key VARCHAR(700) PATH '$.k')) AS j
        STRAIGHT_JOIN package p
        ON p.name_version_hash = UNHEX(j.h)
        SET p.publisher = COALESCE(j.publisher, p.publisher),
            p.architecture = COALESCE(j.architecture, p.architecture),
            p.version_key = COALESCE(p.version_key, j.version_key);
    END IF;
    DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
    CREATE TEMPORARY TABLE inventory_wanted (
        id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL,
        version VARCHAR(128) NOT NULL
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
    INSERT INTO inventory_wanted (id, name, version)
    SELECT p.id, p.name, p.version
    FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h')) AS j
    STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h);
    -- What comes: the wanted packages not linked yet.
    CREATE TEMPORARY TABLE inventory_came (
        name VARCHAR(255) NOT NULL, version VARCHAR(128) NOT NULL, KEY (name)
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
    INSERT INTO inventory_came (name, version)
    SELECT w.name, w.version
    FROM inventory_wanted w
    WHERE NOT EXISTS (
        SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = p_id AND ep.package_id = w.id);
    IF p_replace THEN
        -- What goes: the links not wanted. A name with one version gone and
        -- one come changed version.
        CREATE TEMPORARY TABLE inventory_gone (
            name VARCHAR(255) NOT NULL, version VARCHAR(128) NOT NULL, KEY (name)
        ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
        INSERT INTO inventory_gone (name, version)
        SELECT p.name, p.version
        FROM ec2_package ep
        JOIN package p ON p.id = ep.package_id
        WHERE ep.ec2_id = p_id
          AND NOT EXISTS (SELECT 1 FROM inventory_wanted w WHERE w.id = ep.package_id);
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
            new_version)
        SELECT p_id, p_at, p_source, 'changed', g.name, MIN(g.version), MIN(c.version)
        FROM inventory_gone g
        JOIN inventory_came c ON c.name = g.name
        GROUP BY g.name
        HAVING COUNT(DISTINCT g.version) = 1 AND COUNT(DISTINCT c.version) = 1;
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
            new_version)
        SELECT p_id, p_at, p_source, 'removed', g.name, g.version, NULL
        FROM inventory_gone g
        WHERE NOT EXISTS (
            SELECT 1 FROM ec2_history h
            WHERE h.package_name = g.name AND h.changed_at = p_at AND h.ec2_id = p_id
              AND h.kind = 'changed');
        DELETE ep FROM ec2_package ep
        LEFT JOIN inventory_wanted w ON w.id = ep.package_id
        WHERE ep.ec2_id = p_id AND w.id IS NULL;
    END IF;
    -- Installs: what came, but for the changes just recorded and, in a
    -- further chunk, for what the first chunk recorded as removed (or as
    -- the old side of a change): those were kept.
    INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
        new_version)
    SELECT p_id, p_at, p_source, 'installed', c.name, NULL, c.version
    FROM inventory_came c
    WHERE NOT EXISTS (
        SELECT 1 FROM ec2_history h
        WHERE h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
          AND ((p_replace AND h.kind = 'changed')
            OR (NOT p_replace AND h.kind IN ('removed', 'changed')
                AND h.old_version = c.version)));
    IF NOT p_replace AND EXISTS (
        SELECT 1 FROM ec2_history h
        WHERE h.ec2_id = p_id AND h.changed_at = p_at AND h.kind IN ('removed', 'changed')
    ) THEN
        DELETE h FROM inventory_came c
        STRAIGHT_JOIN ec2_history h
            ON h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
           AND h.kind = 'removed' AND h.old_version = c.version;
        UPDATE inventory_came c
        STRAIGHT_JOIN ec2_history h
            ON h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
           AND h.kind = 'changed' AND h.old_version = c.version
        SET h.kind = 'installed', h.old_version = NULL;
    END IF;
    INSERT INTO ec2_package (ec2_id, package_id)
    SELECT p_id, w.id
    FROM inventory_wanted w
    ON DUPLICATE KEY UPDATE package_id = ec2_package.package_id;
    DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
END //

-- POST (`p_mode` 'create': nothing when the id is recorded) and PUT ('put':
-- insert or replace every field and the package set). Answers one row,
-- `written`: 'created', 'replaced' or 'skipped'. The `ec2` row's lock comes
-- first: it orders the writers of one instance, and the state read under it
-- is the newest committed.
CREATE PROCEDURE inventory_write_instance(
    IN p_mode VARCHAR(8), IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12),
    IN p_region VARCHAR(32), IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255),
    IN p_image_id VARCHAR(255), IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6),
    IN p_tags LONGTEXT, IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_packages LONGTEXT,
    IN p_own_transaction BOOLEAN)
BEGIN
    DECLARE v_written VARCHAR(8) DEFAULT 'created';
    DECLARE v_known INT;
    DECLARE v_old_state VARCHAR(16);
    DECLARE v_raced BOOLEAN DEFAULT FALSE;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        IF p_own_transaction THEN
            ROLLBACK;
        END IF;
        RESIGNAL;
    END;
    IF p_own_transaction THEN
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        START TRANSACTION;
    END IF;
    SELECT COUNT(*), MAX(state) INTO v_known, v_old_state FROM ec2 WHERE id = p_id FOR UPDATE;
    IF v_known = 0 THEN
        BEGIN
            DECLARE CONTINUE HANDLER FOR 1062 SET v_raced = TRUE;
            INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
                launch_time, tags, source, created, updated, terminated_at, inventory_captured_at)
            VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
                p_launch_time, p_tags, p_source, p_now, p_now,
                CASE WHEN p_state = 'terminated' THEN p_now END, p_now);
        END;
        IF v_raced THEN
            -- A concurrent writer inserted it first: wait for it.
            SELECT COUNT(*), MAX(state) INTO v_known, v_old_state
            FROM ec2 WHERE id = p_id FOR UPDATE;
        END IF;
    END IF;
    IF v_known > 0 AND p_mode = 'create' THEN
        SET v_written = 'skipped';
    ELSEIF v_known > 0 THEN
        -- The request's fields win; `created` stays, and so does
        -- `terminated_at` while the instance stays terminated.
        UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
            instance_type = p_instance_type, image_id = p_image_id, platform = p_platform,
            launch_time = p_launch_time, tags = p_tags, source = p_source, updated = p_now,
            terminated_at = IF(p_state = 'terminated', COALESCE(terminated_at, p_now), NULL),
            inventory_captured_at = p_now
        WHERE id = p_id;
        SET v_written = 'replaced';
    END IF;
    IF v_written <> 'skipped' THEN
        IF NOT (v_old_state <=> p_state) THEN
            INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
            VALUES (p_id, p_now, p_source, 'state', v_old_state, p_state);
        END IF;
        CALL inventory_link_packages(p_id, p_packages, v_written = 'replaced', p_source, p_now);
    END IF;
    IF p_own_transaction THEN
        COMMIT;
    END IF;
    SELECT v_written AS written;
END //

-- A package set from an inventory capture: written only when the capture is
-- newer than the stored one. Answers `written`: 'replaced' or 'skipped'.
CREATE PROCEDURE inventory_replace_packages(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_captured_at DATETIME(6), IN p_now DATETIME(6),
    IN p_source VARCHAR(8), IN p_packages LONGTEXT, IN p_own_transaction BOOLEAN)
BEGIN
    DECLARE v_written VARCHAR(8) DEFAULT 'skipped';
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        IF p_own_transaction THEN
            ROLLBACK;
        END IF;
        RESIGNAL;
    END;
    IF p_own_transaction THEN
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        START TRANSACTION;
    END IF;
    -- UPDATE waits for the row lock, then checks the capture time on the
    -- newest committed row: the newest capture wins.
    UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
    WHERE id = p_id
      AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
    IF ROW_COUNT() > 0 THEN
        CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at);
        SET v_written = 'replaced';
    END IF;
    IF p_own_transaction THEN
        COMMIT;
    END IF;
    SELECT v_written AS written;
END //

-- A state event, with the packages SSM reported for a `running` one
-- (`p_packages` NULL: none). The state applies only when newer than the last
-- event applied, and is recorded in the history when it differs from the
-- stored one; the packages when this event's state stands (just applied,
-- or a redelivery of it whose packages never arrived) and their capture is
-- newer than the stored one. Details only when `p_has_details`. Answers
-- `state_applied`, `packages_written` (0 or 1).
CREATE PROCEDURE inventory_apply_state(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12), IN p_region VARCHAR(32),
    IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255), IN p_image_id VARCHAR(255),
    IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6), IN p_tags LONGTEXT,
    IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_time DATETIME(6), IN p_has_details BOOLEAN,
    IN p_captured_at DATETIME(6), IN p_packages LONGTEXT, IN p_own_transaction BOOLEAN)
BEGIN
    DECLARE v_applied BOOLEAN DEFAULT FALSE;
    DECLARE v_written BOOLEAN DEFAULT FALSE;
    DECLARE v_raced BOOLEAN DEFAULT FALSE;
    DECLARE v_done BOOLEAN DEFAULT FALSE;
    DECLARE v_known INT;
    DECLARE v_old_state VARCHAR(16);
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        IF p_own_transaction THEN
            ROLLBACK;
        END IF;
        RESIGNAL;
    END;
    IF p_own_transaction THEN
        SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
        START TRANSACTION;
    END IF;
    -- A second round only when a concurrent event inserted the unknown
    -- instance first: this one then applies as an update after all.
    WHILE NOT v_done DO
        SELECT COUNT(*), MAX(state) INTO v_known, v_old_state
        FROM ec2 WHERE id = p_id FOR UPDATE;
        IF v_known > 0 THEN
            -- Assignments run left to right: last_event_time must come last.
            UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
                instance_type = IF(p_has_details, p_instance_type, instance_type),
                image_id = IF(p_has_details, p_image_id, image_id),
                platform = IF(p_has_details, p_platform, platform),
                launch_time = IF(p_has_details, p_launch_time, launch_time),
                tags = IF(p_has_details, p_tags, tags),
                source = p_source, updated = p_now,
                terminated_at = IF(p_state = 'terminated', COALESCE(terminated_at, p_time),
                    terminated_at),
                last_event_time = p_time
            WHERE id = p_id AND (last_event_time IS NULL OR last_event_time < p_time);
            SET v_applied = ROW_COUNT() > 0, v_done = TRUE;
        ELSE
            BEGIN
                DECLARE CONTINUE HANDLER FOR 1062 SET v_raced = TRUE;
                INSERT INTO ec2 (id, account, region, state, instance_type, image_id,
                    platform, launch_time, tags, source, created, updated, terminated_at,
                    last_event_time)
                VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id,
                    p_platform, p_launch_time, p_tags, p_source, p_now, p_now,
                    CASE WHEN p_state = 'terminated' THEN p_time END, p_time);
            END;
            SET v_applied = NOT v_raced, v_done = NOT v_raced;
        END IF;
    END WHILE;
    IF v_applied AND NOT (v_old_state <=> p_state) THEN
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
        VALUES (p_id, p_time, p_source, 'state', v_old_state, p_state);
    END IF;
    IF p_packages IS NOT NULL THEN
        UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
        WHERE id = p_id AND state = 'running' AND last_event_time = p_time
          AND (v_applied OR inventory_captured_at IS NULL)
          AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
        IF ROW_COUNT() > 0 THEN
            CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at);
            SET v_written = TRUE;
        END IF;
    END IF;
    IF p_own_transaction THEN
        COMMIT;
    END IF;
    SELECT v_applied AS state_applied, v_written AS packages_written;
END //

DELIMITER ;
