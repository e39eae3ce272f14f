INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time,
                 tags, source, created, updated, terminated_at, last_event_time,
                 inventory_captured_at)
VALUES (:id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
        :tags, :source, :now, :now, CASE WHEN :state = 'terminated' THEN :time END, :time,
        NULL)
ON CONFLICT (id) DO UPDATE SET
    account = EXCLUDED.account,
    region = EXCLUDED.region,
    state = EXCLUDED.state,
    instance_type = CASE WHEN :has_details = 1 THEN EXCLUDED.instance_type ELSE ec2.instance_type END,
    image_id = CASE WHEN :has_details = 1 THEN EXCLUDED.image_id ELSE ec2.image_id END,
    platform = CASE WHEN :has_details = 1 THEN EXCLUDED.platform ELSE ec2.platform END,
    launch_time = CASE WHEN :has_details = 1 THEN EXCLUDED.launch_time ELSE ec2.launch_time END,
    tags = CASE WHEN :has_details = 1 THEN EXCLUDED.tags ELSE ec2.tags END,
    source = EXCLUDED.source,
    updated = EXCLUDED.updated,
    terminated_at = CASE WHEN EXCLUDED.state = 'terminated'
                         THEN COALESCE(ec2.terminated_at, EXCLUDED.terminated_at)
                         ELSE ec2.terminated_at END,
    last_event_time = EXCLUDED.last_event_time
WHERE ec2.last_event_time IS NULL OR ec2.last_event_time < EXCLUDED.last_event_time
