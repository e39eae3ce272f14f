SELECT state_applied, packages_written
FROM inventory_apply_state(
    CAST(:id AS text), CAST(:account AS text), CAST(:region AS text), CAST(:state AS text),
    CAST(:instance_type AS text), CAST(:image_id AS text), CAST(:platform AS text),
    CAST(:launch_time AS timestamp), CAST(:tags AS jsonb), CAST(:source AS text),
    CAST(:now AS timestamp), CAST(:time AS timestamp), CAST(:has_details AS bigint) = 1,
    CAST(:captured_at AS timestamp), CAST(:packages AS json),
    CAST(:platform_name AS text), CAST(:platform_version AS text), CAST(:os_release AS text),
    CAST(:version_scheme AS text))
