SELECT inventory_replace_packages(
    CAST(:id AS text), CAST(:captured_at AS timestamp), CAST(:now AS timestamp),
    CAST(:source AS text), CAST(:packages AS json)) AS written
