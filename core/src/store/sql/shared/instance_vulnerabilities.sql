SELECT a.id AS advisory_id, a.aliases, a.severity, a.severity_rank, p.name AS package_name,
       p.version AS package_version, MIN(r.fixed_version) AS fixed_version,
       MIN(f.matched_by) AS matched_by
FROM ec2 e
JOIN ec2_package ep ON ep.ec2_id = e.id
JOIN package_finding f ON f.package_id = ep.package_id
JOIN advisory_range r ON r.id = f.range_id AND r.os_release = e.os_release
JOIN advisory a ON a.id = r.advisory_id
JOIN package p ON p.id = ep.package_id
WHERE e.id = :id
  AND a.withdrawn IS NULL
  AND (:after_rank IS NULL
    OR a.severity_rank < :after_rank
    OR (a.severity_rank = :after_rank
      AND (a.id, p.name, p.version) > (:after_advisory, :after_name, :after_version)))
GROUP BY a.id, a.aliases, a.severity, a.severity_rank, p.name, p.version
ORDER BY a.severity_rank DESC, a.id, p.name, p.version
LIMIT :limit
