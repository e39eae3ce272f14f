UPDATE ec2
SET inventory_captured_at = :captured_at, updated = :now, source = :source,
    platform_name = COALESCE(:platform_name, platform_name),
    platform_version = COALESCE(:platform_version, platform_version),
    os_release = COALESCE(:os_release, os_release), version_scheme = :version_scheme
WHERE id = :id
  AND state = 'running'
  AND last_event_time = :time
  AND (:state_applied = 1 OR inventory_captured_at IS NULL)
  AND (inventory_captured_at IS NULL OR inventory_captured_at < :captured_at)
