SELECT 0 AS part, account, region, state, instance_type, image_id, platform, launch_time,
       tags, source, created, updated, terminated_at, last_event_time, inventory_captured_at,
       platform_name, platform_version, os_release, version_scheme, NULL AS packages
FROM ec2 WHERE id = :id
UNION ALL SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL,
       json_group_array(json_array(name, version, publisher, architecture, source_name))
FROM (
    SELECT p.name, p.version, p.publisher, p.architecture, p.source_name,
           SUM(length(CAST(p.name || p.version || coalesce(p.publisher, '') || coalesce(p.architecture, '')
                           || coalesce(p.source_name, '') AS BLOB))
               + 16) OVER (ORDER BY p.id) AS running
    FROM ec2_package ep
    JOIN package p ON p.id = ep.package_id
    WHERE ep.ec2_id = :id
) s
GROUP BY running / 16384
ORDER BY 1
