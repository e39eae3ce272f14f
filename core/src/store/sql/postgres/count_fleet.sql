SELECT counted
FROM inventory_count_fleet(CAST(:stale_before AS timestamp), CAST(:now AS timestamp),
    CAST(:names AS bigint))
