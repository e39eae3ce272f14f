-- The write routines, MySQL 8 / MariaDB 10.6+: every instance write is ONE
-- Data API call, `CALL inventory_...(...)`. This file holds their current
-- definition; `inventory migrate` applies it again whenever it changed (by
-- its checksum) and after any pending versioned file.
--
-- Why procedures: the hosted Data API runs one statement per call and keeps
-- no session between calls, so a write of several statements needed a
-- transaction of 5-6 calls. A procedure runs them in one call. Called outside
-- a transaction (autocommit), each statement would commit on its own, so with
-- `p_own_transaction` 1 the procedure runs START TRANSACTION ... COMMIT
-- itself, and on any error ROLLBACK and RESIGNAL (the caller sees the
-- engine's error, e.g. a deadlock to retry). With 0 it runs inside the
-- caller's Data API transaction (the chunked path of an oversized list).
--
-- Snapshots: each procedure first takes the instance row's lock
-- (`inventory_lock_instance`, or the capture's UPDATE of the `ec2` row), so
-- every writer of that instance queues there.
-- Its own transaction runs at READ COMMITTED: as in PostgreSQL, each statement
-- after the lock reads the newest committed rows, so the last writer to
-- commit leaves exactly its own set; and reads of shared `package` rows take
-- no locks (REPEATABLE READ would lock them, gaps included, and writers of
-- different instances sharing packages would queue or deadlock). Inside a
-- caller's transaction (REPEATABLE READ) every statement that decides the
-- set is a locking ("current") read anyway. READ COMMITTED needs row or mixed
-- binary logging when binary logging is on (Aurora's and MariaDB's default).
--
-- Joins with JSON_TABLE are STRAIGHT_JOINs, JSON first: the optimizer has
-- no row estimate for JSON_TABLE and, with small or stale statistics of
-- `package`, put `package` first, hashing every JSON row for every package
-- row: O(N x packages). That was MariaDB's jump from 9 ms (100 packages) to
-- 173 ms (1,000) and seconds at 10,000; JSON first, each row is one lookup
-- of the unique `identity_hash`.
--
-- The history rows this call recorded are looked up by package (FORCE INDEX
-- (ec2_history_package): a few rows each). From some tables' statistics
-- MariaDB chose the instance's index instead, whose range (this instance,
-- this time) holds every row this call recorded: each package read them
-- all, O(N^2), 250,000 rows and 0.4 s for a 1,000-package replace.
--
-- Statements end with `;` at the end of a line, except between
-- `DELIMITER //` and `DELIMITER ;` (the mysql client's convention), where a
-- statement ends with `//`: each CREATE PROCEDURE is one statement and one
-- call. MySQL commits DDL as it goes: DROP ... IF EXISTS then CREATE makes a
-- rerun of this file safe. No colon may appear (the Data API reads `:name`
-- as a parameter).

DROP PROCEDURE IF EXISTS inventory_link_packages;

DROP PROCEDURE IF EXISTS inventory_lock_instance;

DROP PROCEDURE IF EXISTS inventory_write_instance;

DROP PROCEDURE IF EXISTS inventory_replace_packages;

DROP PROCEDURE IF EXISTS inventory_apply_state;

DROP PROCEDURE IF EXISTS inventory_count_fleet;

DELIMITER //

-- Makes the package links of `p_id` exactly `p_packages` (a JSON array of
-- {"n", "v", "p"?, "a"?, "s"?: source package, "k": version_key, "h":
-- identity_hash in hex}, distinct by name and version), inserting new
-- packages of scheme `p_scheme`, and records what changed at `p_at` from
-- `p_source`. With `p_replace` false only adds: a first write or a further
-- chunk of an oversized write, which takes back what the first chunk
-- recorded as removed. An instance without links records every package as
-- installed, without a diff; an unchanged set records nothing. The caller
-- holds the row lock.
--
-- A first write of known packages (the instance has no links, and the list
-- brings nothing to compare, see below) links them straight from the list
-- and records each as installed: no temporary table, each package looked up
-- once, in the links' insert. When fewer rows were linked than listed, some
-- packages are new: those links are taken back, and the call goes on as
-- every other write does.
--
-- The list is read once into `inventory_wanted`: each JSON row's package id
-- (NULL while new) and whether the input adds or changes its publisher,
-- architecture or source, or brings the sort key of a package recorded
-- before schema 004; when it can do neither, the lookup reads only the
-- identity index. A lookup by `identity_hash` costs more than the rest of
-- a row's work, so each package is looked up once, and JSON_TABLE is read
-- again only to insert the new ones or to update the changed ones. Every
-- other statement joins the keyed temporary tables, never JSON_TABLE: the
-- optimizer re-evaluated JSON_TABLE (or a CTE over it) once per link in a
-- join, O(links x N), seconds at 1,000 packages. The links gone and come
-- are temporary tables too, made only when the set changed. They are
-- InnoDB's (the default): MEMORY ones saved about 2 ms at 1,000 packages,
-- but a write to a non-transactional table inside a transaction can break
-- GTID consistency where the binary log is on. Each statement names
-- each temporary table once (MySQL cannot reopen one in a statement). They
-- live in the call's session and are dropped before the call ends.
--
-- New and changed packages get their findings (the view `package_match`,
-- schema 006) in the same call. Every write first takes the 'findings' row
-- of `inventory_lock` shared, before it touches `package`; an import takes
-- it exclusively to match its new ranges against every package. So either
-- the import's matching runs after the write committed and sees its
-- packages, or the write runs after the import committed and sees its
-- ranges.
CREATE PROCEDURE inventory_link_packages(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_packages LONGTEXT, IN p_replace BOOLEAN,
    IN p_source VARCHAR(8), IN p_at DATETIME(6), IN p_scheme VARCHAR(8))
BEGIN
    DECLARE v_wanted INT;
    DECLARE v_new INT;
    DECLARE v_stale INT;
    DECLARE v_links INT;
    DECLARE v_kept INT;
    DECLARE v_looked INT DEFAULT 0;
    DECLARE v_locked INT;
    DECLARE v_before BIGINT;
    DECLARE v_package BIGINT;
    DECLARE v_compare BOOLEAN;
    DECLARE v_linked BOOLEAN DEFAULT FALSE;
    SELECT 1 INTO v_locked FROM inventory_lock WHERE name = 'findings' LOCK IN SHARE MODE;
    -- Whether the lookup must compare the stored rows: only when the list
    -- brings a publisher, architecture or source, or some package still
    -- lacks its sort key (the index `package_keyless`, schema 011).
    -- Otherwise no package can be stale, and the lookup reads the identity
    -- index alone.
    SET v_compare = JSON_CONTAINS_PATH(p_packages, 'one', '$[*].p', '$[*].a', '$[*].s')
        OR EXISTS (SELECT 1 FROM package WHERE version_key IS NULL);
    SELECT COUNT(*) INTO v_links FROM ec2_package WHERE ec2_id = p_id;
    IF v_links = 0 AND NOT v_compare THEN
        INSERT INTO ec2_package (ec2_id, package_id)
        SELECT p_id, p.id
        FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h')) AS j
        STRAIGHT_JOIN package p ON p.identity_hash = UNHEX(j.h);
        IF ROW_COUNT() = JSON_LENGTH(p_packages) THEN
            INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
                new_version)
            SELECT p_id, p_at, p_source, 'installed', j.name, NULL, j.version
            FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (name VARCHAR(255) PATH '$.n',
                version VARCHAR(128) PATH '$.v')) AS j;
            SET v_linked = TRUE;
        ELSE
            DELETE FROM ec2_package WHERE ec2_id = p_id;
        END IF;
    END IF;
    IF NOT v_linked THEN
        DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
        CREATE TEMPORARY TABLE inventory_wanted (
            ord INT NOT NULL PRIMARY KEY, id BIGINT NULL, stale BOOLEAN NOT NULL, KEY (id)
        );
        -- At most twice: when some are new, insert them and look again.
        WHILE v_looked = 0 OR (v_looked = 1 AND v_new > 0) DO
            IF v_looked = 1 THEN
                -- New packages, in the caller's (sorted) order, so that writers
                -- sharing new packages wait for each other instead of
                -- deadlocking. IGNORE settles a race with a concurrent writer
                -- inserting the same new package, whose row may differ in
                -- publisher or architecture: hence the second look. Ids only
                -- grow: the packages this call inserts are above `v_before`.
                SELECT COALESCE(MAX(id), 0) INTO v_before FROM package;
                INSERT IGNORE INTO package (name, version, scheme, publisher, architecture,
                    source_name, version_key)
                SELECT j.name, j.version, p_scheme, j.publisher, j.architecture, j.source_name,
                    j.version_key
                FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY,
                    name VARCHAR(255) PATH '$.n', version VARCHAR(128) PATH '$.v',
                    publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
                    source_name VARCHAR(255) PATH '$.s', version_key VARCHAR(700) PATH '$.k')) AS j
                STRAIGHT_JOIN inventory_wanted w ON w.ord = j.ord
                WHERE w.id IS NULL
                ORDER BY j.ord;
                IF ROW_COUNT() > 0 THEN
                    INSERT IGNORE INTO package_finding (package_id, range_id, matched_by)
                    SELECT m.package_id, m.range_id, m.matched_by
                    FROM package_match m
                    WHERE m.package_id > v_before;
                END IF;
                DELETE FROM inventory_wanted;
            END IF;
            IF v_compare THEN
                INSERT INTO inventory_wanted (ord, id, stale)
                SELECT j.ord, p.id,
                    (j.publisher IS NOT NULL AND NOT (j.publisher <=> p.publisher))
                    OR (j.architecture IS NOT NULL AND NOT (j.architecture <=> p.architecture))
                    OR (j.source_name IS NOT NULL AND NOT (j.source_name <=> p.source_name))
                    OR (p.version_key IS NULL AND j.version_key IS NOT NULL)
                FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY,
                    h CHAR(64) PATH '$.h', publisher VARCHAR(255) PATH '$.p',
                    architecture VARCHAR(32) PATH '$.a', source_name VARCHAR(255) PATH '$.s',
                    version_key VARCHAR(700) PATH '$.k')) AS j
                LEFT JOIN package p ON p.identity_hash = UNHEX(j.h);
            ELSE
                INSERT INTO inventory_wanted (ord, id, stale)
                SELECT j.ord, p.id, FALSE
                FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY,
                    h CHAR(64) PATH '$.h')) AS j
                LEFT JOIN package p ON p.identity_hash = UNHEX(j.h);
            END IF;
            SELECT COUNT(*), COUNT(*) - COUNT(id), SUM(stale)
            INTO v_wanted, v_new, v_stale
            FROM inventory_wanted;
            SET v_looked = v_looked + 1;
        END WHILE;
        IF v_stale > 0 THEN
            -- Rare; only those rows are updated (an update locks what it reads),
            -- and their findings made again, one by one: the view takes a
            -- condition on one id, not a list.
            UPDATE JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY,
                publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a',
                source_name VARCHAR(255) PATH '$.s', version_key VARCHAR(700) PATH '$.k')) AS j
            STRAIGHT_JOIN inventory_wanted w ON w.ord = j.ord
            STRAIGHT_JOIN package p ON p.id = w.id
            SET p.publisher = COALESCE(j.publisher, p.publisher),
                p.architecture = COALESCE(j.architecture, p.architecture),
                p.source_name = COALESCE(j.source_name, p.source_name),
                p.version_key = COALESCE(p.version_key, j.version_key)
            WHERE w.stale;
            SELECT MIN(id) INTO v_package FROM inventory_wanted WHERE stale;
            WHILE v_package IS NOT NULL DO
                DELETE FROM package_finding WHERE package_id = v_package;
                INSERT IGNORE INTO package_finding (package_id, range_id, matched_by)
                SELECT m.package_id, m.range_id, m.matched_by
                FROM package_match m
                WHERE m.package_id = v_package;
                SELECT MIN(id) INTO v_package FROM inventory_wanted WHERE stale AND id > v_package;
            END WHILE;
        END IF;
        IF v_links = 0 THEN
            -- No links yet (a first write, or an instance that had none): every
            -- package is an install and there is nothing to diff. A further
            -- chunk always finds the first chunk's links.
            INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
                new_version)
            SELECT p_id, p_at, p_source, 'installed', p.name, NULL, p.version
            FROM inventory_wanted w STRAIGHT_JOIN package p ON p.id = w.id;
            INSERT INTO ec2_package (ec2_id, package_id)
            SELECT p_id, w.id FROM inventory_wanted w;
        ELSE
            -- The links kept: the instance's links, each looked up in
            -- `inventory_wanted`. All wanted kept, and (for a replace) no other
            -- link: nothing changed.
            SELECT COUNT(*) INTO v_kept
            FROM ec2_package ep STRAIGHT_JOIN inventory_wanted w ON w.id = ep.package_id
            WHERE ep.ec2_id = p_id;
        END IF;
        IF v_links > 0 AND (v_kept < v_wanted OR (p_replace AND v_kept < v_links)) THEN
            -- What comes: the wanted packages not linked yet. `same` marks a
            -- link that moves to another row of the same name and version (the
            -- instance's scheme changed): no change for the history.
            CREATE TEMPORARY TABLE inventory_came (
                id BIGINT NOT NULL, name VARCHAR(255) NOT NULL, version VARCHAR(128) NOT NULL,
                same BOOLEAN NOT NULL DEFAULT FALSE, KEY (name)
            ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
            INSERT INTO inventory_came (id, name, version)
            SELECT p.id, p.name, p.version
            FROM inventory_wanted w STRAIGHT_JOIN package p ON p.id = w.id
            WHERE NOT EXISTS (
                SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = p_id AND ep.package_id = w.id);
            IF p_replace THEN
                -- What goes: the links not wanted. A name with one version gone and
                -- one come changed version.
                CREATE TEMPORARY TABLE inventory_gone LIKE inventory_came;
                INSERT INTO inventory_gone (id, name, version)
                SELECT p.id, p.name, p.version
                FROM ec2_package ep
                JOIN package p ON p.id = ep.package_id
                WHERE ep.ec2_id = p_id
                  AND NOT EXISTS (SELECT 1 FROM inventory_wanted w WHERE w.id = ep.package_id);
                UPDATE inventory_came c
                JOIN inventory_gone g ON g.name = c.name AND g.version = c.version
                SET c.same = TRUE, g.same = TRUE;
                INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
                    new_version)
                SELECT p_id, p_at, p_source, 'changed', g.name, MIN(g.version), MIN(c.version)
                FROM inventory_gone g
                JOIN inventory_came c ON c.name = g.name AND NOT c.same
                WHERE NOT g.same
                GROUP BY g.name
                HAVING COUNT(DISTINCT g.version) = 1 AND COUNT(DISTINCT c.version) = 1;
                INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
                    new_version)
                SELECT p_id, p_at, p_source, 'removed', g.name, g.version, NULL
                FROM inventory_gone g
                WHERE NOT g.same AND NOT EXISTS (
                    SELECT 1 FROM ec2_history h FORCE INDEX (ec2_history_package)
                    WHERE h.package_name = g.name AND h.changed_at = p_at AND h.ec2_id = p_id
                      AND h.kind = 'changed');
                DELETE ep FROM inventory_gone g
                STRAIGHT_JOIN ec2_package ep ON ep.ec2_id = p_id AND ep.package_id = g.id;
            END IF;
            -- Installs: what came, but for the changes just recorded and, in a
            -- further chunk, for what the first chunk recorded as removed (or as
            -- the old side of a change): those were kept.
            INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version,
                new_version)
            SELECT p_id, p_at, p_source, 'installed', c.name, NULL, c.version
            FROM inventory_came c
            WHERE NOT c.same AND NOT EXISTS (
                SELECT 1 FROM ec2_history h FORCE INDEX (ec2_history_package)
                WHERE h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
                  AND ((p_replace AND h.kind = 'changed')
                    OR (NOT p_replace AND h.kind IN ('removed', 'changed')
                        AND h.old_version = c.version)));
            IF NOT p_replace AND EXISTS (
                SELECT 1 FROM ec2_history h
                WHERE h.ec2_id = p_id AND h.changed_at = p_at AND h.kind IN ('removed', 'changed')
            ) THEN
                DELETE h FROM inventory_came c
                STRAIGHT_JOIN ec2_history h FORCE INDEX (ec2_history_package)
                    ON h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
                   AND h.kind = 'removed' AND h.old_version = c.version;
                UPDATE inventory_came c
                STRAIGHT_JOIN ec2_history h FORCE INDEX (ec2_history_package)
                    ON h.package_name = c.name AND h.changed_at = p_at AND h.ec2_id = p_id
                   AND h.kind = 'changed' AND h.old_version = c.version
                SET h.kind = 'installed', h.old_version = NULL;
            END IF;
            -- Only what came: the links kept are there already (the caller holds
            -- the row lock, so nobody else links this instance meanwhile).
            INSERT INTO ec2_package (ec2_id, package_id)
            SELECT p_id, c.id
            FROM inventory_came c;
        END IF;
        DROP TEMPORARY TABLE IF EXISTS inventory_wanted, inventory_gone, inventory_came;
    END IF;
END //

-- Takes the lock of instance `p_id`'s row, inserting the row with the given
-- columns when the id is new (`terminated_at` is `p_at`, the write's time,
-- when the state is 'terminated'), and answers the state stored before
-- (`p_old_state`, NULL when new) and whether this call inserted the row.
-- When a concurrent writer inserts the same new id first, the call waits
-- for that writer's row and answers as for a known instance: the writers of
-- one instance queue here, in the order they take the lock. The failed
-- INSERT share-locks the row it met (InnoDB does so on a duplicate key), so
-- no DELETE can remove it before the SELECT ... FOR UPDATE that follows;
-- PostgreSQL's `ON CONFLICT DO NOTHING` locks nothing, and its function
-- looks again.
CREATE PROCEDURE inventory_lock_instance(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12), IN p_region VARCHAR(32),
    IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255), IN p_image_id VARCHAR(255),
    IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6), IN p_tags LONGTEXT,
    IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_at DATETIME(6),
    IN p_captured_at DATETIME(6), IN p_event_time DATETIME(6),
    IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
    IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8),
    OUT p_old_state VARCHAR(16), OUT p_inserted BOOLEAN)
BEGIN
    DECLARE v_known INT;
    DECLARE v_raced BOOLEAN DEFAULT FALSE;
    SET p_inserted = FALSE;
    SELECT COUNT(*), MAX(state) INTO v_known, p_old_state FROM ec2 WHERE id = p_id FOR UPDATE;
    IF v_known = 0 THEN
        BEGIN
            DECLARE CONTINUE HANDLER FOR 1062 SET v_raced = TRUE;
            INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
                launch_time, tags, source, created, updated, terminated_at,
                inventory_captured_at, last_event_time, platform_name, platform_version,
                os_release, version_scheme)
            VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
                p_launch_time, p_tags, p_source, p_now, p_now,
                IF(p_state = 'terminated', p_at, NULL), p_captured_at, p_event_time,
                p_platform_name, p_platform_version, p_os_release, p_version_scheme);
        END;
        IF v_raced THEN
            SELECT MAX(state) INTO p_old_state FROM ec2 WHERE id = p_id FOR UPDATE;
        ELSE
            SET p_inserted = TRUE;
        END IF;
    END IF;
END //

-- POST (`p_mode` 'create': nothing when the id is recorded) and PUT ('put':
-- insert or replace every field and the package set, whose versions are
-- keyed in `p_version_scheme`). Answers one row, `written`: 'created',
-- 'replaced' or 'skipped'.
CREATE PROCEDURE inventory_write_instance(
    IN p_mode VARCHAR(8), IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12),
    IN p_region VARCHAR(32), IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255),
    IN p_image_id VARCHAR(255), IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6),
    IN p_tags LONGTEXT, IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_packages LONGTEXT,
    IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
    IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8), IN p_own_transaction BOOLEAN)
BEGIN
    DECLARE v_written VARCHAR(8) DEFAULT 'created';
    DECLARE v_old_state VARCHAR(16);
    DECLARE v_inserted BOOLEAN;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
    IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
    CALL inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type, p_image_id,
        p_platform, p_launch_time, p_tags, p_source, p_now, p_now, p_now, NULL,
        p_platform_name, p_platform_version, p_os_release, p_version_scheme, v_old_state, v_inserted);
    IF NOT v_inserted AND p_mode = 'create' THEN
        SET v_written = 'skipped';
    ELSEIF NOT v_inserted THEN
        -- The request's fields win; `created` stays, and so does
        -- `terminated_at` while the instance stays terminated.
        UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
            instance_type = p_instance_type, image_id = p_image_id, platform = p_platform,
            launch_time = p_launch_time, tags = p_tags, source = p_source, updated = p_now,
            terminated_at = IF(p_state = 'terminated', COALESCE(terminated_at, p_now), NULL),
            inventory_captured_at = p_now, platform_name = p_platform_name,
            platform_version = p_platform_version, os_release = p_os_release,
            version_scheme = p_version_scheme
        WHERE id = p_id;
        SET v_written = 'replaced';
    END IF;
    IF v_written <> 'skipped' THEN
        IF NOT (v_old_state <=> p_state) THEN
            INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
            VALUES (p_id, p_now, p_source, 'state', v_old_state, p_state);
        END IF;
        CALL inventory_link_packages(p_id, p_packages, NOT v_inserted, p_source, p_now,
            p_version_scheme);
    END IF;
    IF p_own_transaction THEN COMMIT; END IF;
    SELECT v_written AS written;
END //

-- A state event, with the packages SSM reported for a `running` one
-- (`p_packages` NULL: none). The state applies only when newer than the last
-- event applied, and is recorded in the history when it differs from the
-- stored one; the packages when this event's state stands (just applied,
-- or a redelivery of it whose packages never arrived) and their capture is
-- newer than the stored one, with the OS release the capture reported.
-- Details only when `p_has_details`. Answers `state_applied`,
-- `packages_written` (0 or 1).
CREATE PROCEDURE inventory_apply_state(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12), IN p_region VARCHAR(32),
    IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255), IN p_image_id VARCHAR(255),
    IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6), IN p_tags LONGTEXT,
    IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_time DATETIME(6), IN p_has_details BOOLEAN,
    IN p_captured_at DATETIME(6), IN p_packages LONGTEXT,
    IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
    IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8), IN p_own_transaction BOOLEAN)
BEGIN
    DECLARE v_applied BOOLEAN;
    DECLARE v_written BOOLEAN DEFAULT FALSE;
    DECLARE v_old_state VARCHAR(16);
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
    IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
    CALL inventory_lock_instance(p_id, p_account, p_region, p_state, p_instance_type, p_image_id,
        p_platform, p_launch_time, p_tags, p_source, p_now, p_time, NULL, p_time,
        NULL, NULL, NULL, NULL, v_old_state, v_applied);
    IF NOT v_applied THEN
        -- Known, or inserted first by a concurrent event: an update, applied
        -- only when this event is newer than the last one applied.
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
        SET v_applied = ROW_COUNT() > 0;
    END IF;
    IF v_applied AND NOT (v_old_state <=> p_state) THEN
        INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
        VALUES (p_id, p_time, p_source, 'state', v_old_state, p_state);
    END IF;
    IF p_packages IS NOT NULL THEN
        UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
            platform_name = COALESCE(p_platform_name, platform_name),
            platform_version = COALESCE(p_platform_version, platform_version),
            os_release = COALESCE(p_os_release, os_release), version_scheme = p_version_scheme
        WHERE id = p_id AND state = 'running' AND last_event_time = p_time
          AND (v_applied OR inventory_captured_at IS NULL)
          AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
        IF ROW_COUNT() > 0 THEN
            CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at,
                p_version_scheme);
            SET v_written = TRUE;
        END IF;
    END IF;
    IF p_own_transaction THEN COMMIT; END IF;
    SELECT v_applied AS state_applied, v_written AS packages_written;
END //

-- A package set from an inventory capture: written only when the capture is
-- newer than the stored one, with the OS release the capture reported (NULL:
-- the stored one stays). Answers `written`: 'replaced' or 'skipped'.
CREATE PROCEDURE inventory_replace_packages(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_captured_at DATETIME(6), IN p_now DATETIME(6),
    IN p_source VARCHAR(8), IN p_packages LONGTEXT,
    IN p_platform_name VARCHAR(255), IN p_platform_version VARCHAR(64),
    IN p_os_release VARCHAR(32), IN p_version_scheme VARCHAR(8), IN p_own_transaction BOOLEAN)
BEGIN
    DECLARE v_written VARCHAR(8) DEFAULT 'skipped';
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN IF p_own_transaction THEN ROLLBACK; END IF; RESIGNAL; END;
    IF p_own_transaction THEN SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION; END IF;
    -- UPDATE waits for the row lock, then checks the capture time on the
    -- newest committed row: the newest capture wins.
    UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source,
        platform_name = COALESCE(p_platform_name, platform_name),
        platform_version = COALESCE(p_platform_version, platform_version),
        os_release = COALESCE(p_os_release, os_release), version_scheme = p_version_scheme
    WHERE id = p_id
      AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
    IF ROW_COUNT() > 0 THEN
        CALL inventory_link_packages(p_id, p_packages, TRUE, p_source, p_captured_at,
            p_version_scheme);
        SET v_written = 'replaced';
    END IF;
    IF p_own_transaction THEN COMMIT; END IF;
    SELECT v_written AS written;
END //

-- Recounts the fleet's counts (schema 010) when the claim on `fleet_tally`
-- succeeds: when they were never counted, or counted before
-- `p_stale_before`. A concurrent caller waits on the row lock and, once the
-- first commits, finds the counts fresh and recounts nothing. Answers
-- `counted`: whether this call counted. READ COMMITTED: under REPEATABLE
-- READ, INSERT ... SELECT would lock every link it reads, and every writer
-- would wait for the recount. `package_spread` keeps the `p_names` names
-- with the most links: links are counted per package in one pass, and the
-- distinct instances only for those names.
CREATE PROCEDURE inventory_count_fleet(
    IN p_stale_before DATETIME(6), IN p_now DATETIME(6), IN p_names BIGINT)
BEGIN
    DECLARE v_counted BOOLEAN DEFAULT FALSE;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;
    SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
    START TRANSACTION;
    UPDATE fleet_tally SET counted_at = p_now
    WHERE id = 1 AND (counted_at IS NULL OR counted_at < p_stale_before);
    IF ROW_COUNT() > 0 THEN
        SET v_counted = TRUE;
        DELETE FROM advisory_exposure;
        INSERT INTO advisory_exposure (advisory_id, account, region, state, instances)
        SELECT r.advisory_id, e.account, e.region, e.state, COUNT(DISTINCT ep.ec2_id)
        FROM advisory_range r
        JOIN package_finding f ON f.range_id = r.id
        JOIN ec2_package ep ON ep.package_id = f.package_id
        JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
        GROUP BY r.advisory_id, e.account, e.region, e.state;
        DELETE FROM package_spread;
        INSERT INTO package_spread (name, installs, instances, versions)
        SELECT r.name, r.installs,
            (SELECT COUNT(DISTINCT ep.ec2_id)
             FROM package p JOIN ec2_package ep ON ep.package_id = p.id
             WHERE p.name = r.name AND LENGTH(p.name) = r.name_length),
            r.versions
        FROM (
            SELECT p.name, LENGTH(p.name) AS name_length, SUM(links.installs) AS installs,
                   COUNT(*) AS versions
            FROM (SELECT ep.package_id, COUNT(*) AS installs
                  FROM ec2_package ep GROUP BY ep.package_id) links
            JOIN package p ON p.id = links.package_id
            GROUP BY p.name, LENGTH(p.name)
            ORDER BY installs DESC, p.name
            LIMIT p_names
        ) r;
    END IF;
    COMMIT;
    SELECT v_counted AS counted;
END //

DELIMITER ;
