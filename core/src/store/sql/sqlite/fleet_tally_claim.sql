UPDATE fleet_tally SET counted_at = :now
WHERE id = 1 AND (counted_at IS NULL OR counted_at < :stale_before)
