SELECT inventory_write_instance(
    CAST(:mode AS text), CAST(:id AS text), CAST(:account AS text), CAST(:region AS text),
    CAST(:state AS text), CAST(:instance_type AS text), CAST(:image_id AS text),
    CAST(:platform AS text), CAST(:launch_time AS timestamp), CAST(:tags AS jsonb),
    CAST(:source AS text), CAST(:now AS timestamp), CAST(:packages AS json),
    CAST(:platform_name AS text), CAST(:platform_version AS text), CAST(:os_release AS text),
    CAST(:version_scheme AS text)) AS written
