INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
SELECT :id, :at, :source, 'installed', p.name, NULL, p.version
FROM json_each(:packages) AS j
JOIN package p ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')
    AND p.scheme = :version_scheme
WHERE NOT EXISTS (SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = :id AND ep.package_id = p.id)
  AND NOT EXISTS (
      SELECT 1 FROM ec2_history h
      WHERE h.ec2_id = :id AND h.changed_at = :at AND h.kind IN ('removed', 'changed')
        AND h.package_name = p.name AND h.old_version = p.version)
