UPDATE fleet_tally SET counted_at = NULL WHERE id = 1
