SELECT account, region, state, instance_type, image_id, platform, launch_time,
       tags AS tags, source, created, updated, terminated_at, last_event_time,
       inventory_captured_at, platform_name, platform_version, os_release, version_scheme
FROM ec2
WHERE id = :id
