UPDATE ec2_history SET kind = 'installed', old_version = NULL
WHERE ec2_id = :id AND changed_at = :at AND kind = 'changed'
  AND EXISTS (
      SELECT 1 FROM json_each(:packages) AS j
      WHERE json_extract(j.value, '$.n') = ec2_history.package_name
        AND json_extract(j.value, '$.v') = ec2_history.old_version)
