INSERT INTO ec2 (id, account, region, state, instance_type, image_id, platform, launch_time,
                 tags, source, created, updated, terminated_at, last_event_time,
                 inventory_captured_at)
VALUES (:id, :account, :region, :state, :instance_type, :image_id, :platform, :launch_time,
        :tags, :source, :now, :now, CASE WHEN :state = 'terminated' THEN :now END, NULL,
        :now)
ON CONFLICT (id) DO NOTHING
