INSERT INTO ec2_history (ec2_id, changed_at, source, kind, old_state, new_state)
SELECT :id, :now, :source, 'state', stored.state, :state
FROM (SELECT (SELECT state FROM ec2 WHERE id = :id) AS state,
             EXISTS (SELECT 1 FROM ec2 WHERE id = :id) AS known) AS stored
WHERE stored.state IS NOT :state AND NOT (stored.known AND :mode = 'create')
