-- ec2-inventory schema version 2, MySQL 8 / MariaDB 10.6+: every instance
-- write is ONE Data API call, `CALL inventory_...(...)`.
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
-- Snapshots: each procedure first takes the instance row's lock (an INSERT
-- or UPDATE of the `ec2` row), so every writer of that instance queues there.
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
-- of the unique `name_version_hash`.
--
-- Statements end with `;` at the end of a line, except between
-- `DELIMITER //` and `DELIMITER ;` (the mysql client's convention), where a
-- statement ends with `//`: each CREATE PROCEDURE is one statement and one
-- call. MySQL commits DDL as it goes: DROP ... IF EXISTS then CREATE makes a
-- rerun of this file safe. No colon may appear (the Data API reads `:name`
-- as a parameter).

DROP PROCEDURE IF EXISTS inventory_link_packages;

DROP PROCEDURE IF EXISTS inventory_write_instance;

DROP PROCEDURE IF EXISTS inventory_replace_packages;

DROP PROCEDURE IF EXISTS inventory_apply_state;

DELIMITER //

-- Makes the package links of `p_id` exactly `p_packages` (a JSON array of
-- {"n": name, "v": version, "p": publisher?, "a": architecture?, "h": hash},
-- distinct by name and version; "h" is the hex `name_version_hash`, computed
-- by the caller: hashing in SQL costs ~9 us a row, per statement), inserting
-- new packages; with `p_replace` false only
-- adds (the later chunks of an oversized write). The caller holds the row lock.
CREATE PROCEDURE inventory_link_packages(
    IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_packages LONGTEXT, IN p_replace BOOLEAN)
BEGIN
    DECLARE v_changed INT;
    -- New packages, in the caller's (sorted) order. NOT EXISTS skips the
    -- known ones cheaply; IGNORE only settles a race with a concurrent
    -- writer inserting the same new package (it cannot hide anything else:
    -- the values were validated to the column sizes).
    INSERT IGNORE INTO package (name, version, publisher, architecture)
    SELECT j.name, j.version, j.publisher, j.architecture
    FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (ord FOR ORDINALITY, h CHAR(64) PATH '$.h',
        name VARCHAR(255) PATH '$.n', version VARCHAR(128) PATH '$.v',
        publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a')) AS j
    WHERE NOT EXISTS (
        SELECT 1 FROM package k
        WHERE k.name_version_hash = UNHEX(j.h))
    ORDER BY j.ord;
    -- A publisher or architecture the input adds or changes: rare, so look
    -- first, and only then update (which locks the rows it reads).
    SELECT COUNT(*) INTO v_changed
    FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h',
        publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a')) AS j
    STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h)
    WHERE (j.publisher IS NOT NULL AND NOT (j.publisher <=> p.publisher))
       OR (j.architecture IS NOT NULL AND NOT (j.architecture <=> p.architecture));
    IF v_changed > 0 THEN
        UPDATE JSON_TABLE(p_packages, '$[*]' COLUMNS (h CHAR(64) PATH '$.h',
            publisher VARCHAR(255) PATH '$.p', architecture VARCHAR(32) PATH '$.a')) AS j
        STRAIGHT_JOIN package p
        ON p.name_version_hash = UNHEX(j.h)
        SET p.publisher = COALESCE(j.publisher, p.publisher),
            p.architecture = COALESCE(j.architecture, p.architecture);
    END IF;
    IF p_replace THEN
        -- An anti-join on the wanted ids (materialized with a key): NOT IN
        -- over the JSON_TABLE join is evaluated per link, O(links x N).
        DELETE ep FROM ec2_package ep
        LEFT JOIN (
            SELECT p.id
            FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (
                h CHAR(64) PATH '$.h')) AS j
            STRAIGHT_JOIN package p
                ON p.name_version_hash = UNHEX(j.h)
        ) AS wanted ON wanted.id = ep.package_id
        WHERE ep.ec2_id = p_id AND wanted.id IS NULL;
    END IF;
    INSERT INTO ec2_package (ec2_id, package_id)
    SELECT p_id, p.id
    FROM JSON_TABLE(p_packages, '$[*]' COLUMNS (
        h CHAR(64) PATH '$.h')) AS j
    STRAIGHT_JOIN package p ON p.name_version_hash = UNHEX(j.h)
    ON DUPLICATE KEY UPDATE package_id = ec2_package.package_id;
END //

-- POST (`p_mode` 'create': nothing when the id is recorded) and PUT ('put':
-- insert or replace every field and the package set). Answers one row,
-- `written`: 'created', 'replaced' or 'skipped'.
CREATE PROCEDURE inventory_write_instance(
    IN p_mode VARCHAR(8), IN p_id VARCHAR(255) CHARACTER SET ascii, IN p_account VARCHAR(12),
    IN p_region VARCHAR(32), IN p_state VARCHAR(16), IN p_instance_type VARCHAR(255),
    IN p_image_id VARCHAR(255), IN p_platform VARCHAR(255), IN p_launch_time DATETIME(6),
    IN p_tags LONGTEXT, IN p_source VARCHAR(8), IN p_now DATETIME(6), IN p_packages LONGTEXT,
    IN p_own_transaction BOOLEAN)
BEGIN
    DECLARE v_written VARCHAR(8) DEFAULT 'created';
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
    IF p_mode = 'create' THEN
        BEGIN
            DECLARE CONTINUE HANDLER FOR 1062 SET v_written = 'skipped';
            INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
                launch_time, tags, source, created, updated, terminated_at, inventory_captured_at)
            VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
                p_launch_time, p_tags, p_source, p_now, p_now,
                CASE WHEN p_state = 'terminated' THEN p_now END, p_now);
        END;
    ELSE
        -- The request's fields win; `created` stays, and so does
        -- `terminated_at` while the instance stays terminated. Rows counted:
        -- 1 inserted, 2 replaced (`updated` always changes).
        INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform,
            launch_time, tags, source, created, updated, terminated_at, inventory_captured_at)
        VALUES (p_id, p_account, p_region, p_state, p_instance_type, p_image_id, p_platform,
            p_launch_time, p_tags, p_source, p_now, p_now,
            CASE WHEN p_state = 'terminated' THEN p_now END, p_now)
        ON DUPLICATE KEY UPDATE account = VALUES(account), region = VALUES(region),
            state = VALUES(state), instance_type = VALUES(instance_type),
            image_id = VALUES(image_id), platform = VALUES(platform),
            launch_time = VALUES(launch_time), tags = VALUES(tags), source = VALUES(source),
            updated = VALUES(updated),
            terminated_at = CASE WHEN VALUES(state) = 'terminated'
                THEN COALESCE(terminated_at, VALUES(terminated_at)) END,
            inventory_captured_at = VALUES(inventory_captured_at);
        IF ROW_COUNT() <> 1 THEN
            SET v_written = 'replaced';
        END IF;
    END IF;
    IF v_written <> 'skipped' THEN
        CALL inventory_link_packages(p_id, p_packages, v_written = 'replaced');
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
        CALL inventory_link_packages(p_id, p_packages, TRUE);
        SET v_written = 'replaced';
    END IF;
    IF p_own_transaction THEN
        COMMIT;
    END IF;
    SELECT v_written AS written;
END //

-- A state event, with the packages SSM reported for a `running` one
-- (`p_packages` NULL: none). The state applies only when newer than the last
-- event applied; the packages when this event's state stands (just applied,
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
        -- Assignments run left to right: last_event_time must come last.
        UPDATE ec2 SET account = p_account, region = p_region, state = p_state,
            instance_type = IF(p_has_details, p_instance_type, instance_type),
            image_id = IF(p_has_details, p_image_id, image_id),
            platform = IF(p_has_details, p_platform, platform),
            launch_time = IF(p_has_details, p_launch_time, launch_time),
            tags = IF(p_has_details, p_tags, tags),
            source = p_source, updated = p_now,
            terminated_at = IF(p_state = 'terminated', COALESCE(terminated_at, p_time), terminated_at),
            last_event_time = p_time
        WHERE id = p_id AND (last_event_time IS NULL OR last_event_time < p_time);
        IF ROW_COUNT() > 0 THEN
            SET v_applied = TRUE, v_done = TRUE;
        ELSE
            SELECT COUNT(*) INTO v_known FROM ec2 WHERE id = p_id FOR UPDATE;
            IF v_known > 0 OR v_raced THEN
                SET v_done = TRUE;
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
        END IF;
    END WHILE;
    IF p_packages IS NOT NULL THEN
        UPDATE ec2 SET inventory_captured_at = p_captured_at, updated = p_now, source = p_source
        WHERE id = p_id AND state = 'running' AND last_event_time = p_time
          AND (v_applied OR inventory_captured_at IS NULL)
          AND (inventory_captured_at IS NULL OR inventory_captured_at < p_captured_at);
        IF ROW_COUNT() > 0 THEN
            CALL inventory_link_packages(p_id, p_packages, TRUE);
            SET v_written = TRUE;
        END IF;
    END IF;
    IF p_own_transaction THEN
        COMMIT;
    END IF;
    SELECT v_applied AS state_applied, v_written AS packages_written;
END //

DELIMITER ;
