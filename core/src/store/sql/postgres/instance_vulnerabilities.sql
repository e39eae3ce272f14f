SELECT a.id AS advisory_id, CAST(a.aliases AS text) AS aliases, a.severity, a.severity_rank,
       p.name AS package_name, p.version AS package_version,
       min(r.fixed_version) AS fixed_version, min(f.matched_by) AS matched_by
FROM ec2 e
JOIN ec2_package ep ON ep.ec2_id = e.id
JOIN package_finding f ON f.package_id = ep.package_id
JOIN advisory_range r ON r.id = f.range_id AND r.os_release = e.os_release
JOIN advisory a ON a.id = r.advisory_id
JOIN package p ON p.id = ep.package_id
WHERE e.id = CAST(:id AS text)
  AND a.withdrawn IS NULL
  AND (CAST(:after_rank AS bigint) IS NULL
    OR a.severity_rank < CAST(:after_rank AS bigint)
    OR (a.severity_rank = CAST(:after_rank AS bigint)
      AND (a.id, p.name, p.version) > (CAST(:after_advisory AS text), CAST(:after_name AS text),
          CAST(:after_version AS text))))
GROUP BY a.id, a.aliases, a.severity, a.severity_rank, p.name, p.version
ORDER BY a.severity_rank DESC, a.id, p.name, p.version
LIMIT CAST(:limit AS bigint)
