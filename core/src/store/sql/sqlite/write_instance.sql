INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time,
                 tags, source, created, updated, terminated_at, last_event_time,
                 inventory_captured_at, platform_name, platform_version, os_release,
                 version_scheme)
VALUES (:id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
        :tags, :source, :now, :now, CASE WHEN :state = 'terminated' THEN :now END, NULL,
        :now, :platform_name, :platform_version, :os_release, :version_scheme)
ON CONFLICT (id) DO UPDATE SET
    account = EXCLUDED.account,
    region = EXCLUDED.region,
    state = EXCLUDED.state,
    instance_type = EXCLUDED.instance_type,
    image_id = EXCLUDED.image_id,
    platform = EXCLUDED.platform,
    launch_time = EXCLUDED.launch_time,
    tags = EXCLUDED.tags,
    source = EXCLUDED.source,
    updated = EXCLUDED.updated,
    terminated_at = CASE WHEN EXCLUDED.state = 'terminated'
                         THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at) END,
    inventory_captured_at = EXCLUDED.inventory_captured_at,
    platform_name = EXCLUDED.platform_name,
    platform_version = EXCLUDED.platform_version,
    os_release = EXCLUDED.os_release,
    version_scheme = EXCLUDED.version_scheme
WHERE :mode = 'put'
RETURNING id, created = :now AS created
