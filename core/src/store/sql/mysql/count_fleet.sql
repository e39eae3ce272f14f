CALL inventory_count_fleet(:stale_before, :now, :names)
