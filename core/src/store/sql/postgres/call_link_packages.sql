SELECT 1 FROM inventory_link_packages(
    CAST(:id AS text), CAST(:packages AS json), false, CAST(:source AS text),
    CAST(:at AS timestamp), CAST(:version_scheme AS text))
