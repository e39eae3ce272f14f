SELECT inventory_replace_packages(
    CAST(:id AS text), CAST(:captured_at AS timestamp), CAST(:now AS timestamp),
    CAST(:source AS text), CAST(:packages AS json),
    CAST(:platform_name AS text), CAST(:platform_version AS text), CAST(:os_release AS text),
    CAST(:version_scheme AS text)) AS written
