INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
SELECT :id, :time, :source, 'state', (SELECT state FROM ec2 WHERE id = :id), :state
WHERE NOT EXISTS (
    SELECT 1 FROM ec2
    WHERE id = :id AND (state IS :state OR last_event_time >= :time))
