DELETE FROM ec2 WHERE id = CAST(:id AS text)
