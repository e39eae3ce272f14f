INSERT INTO advisory_exposure (advisory_id, account, region, state, instances)
SELECT r.advisory_id, e.account, e.region, e.state, COUNT(DISTINCT ep.ec2_id)
FROM advisory_range r
JOIN package_finding f ON f.range_id = r.id
JOIN ec2_package ep ON ep.package_id = f.package_id
JOIN ec2 e ON e.id = ep.ec2_id AND e.os_release = r.os_release
GROUP BY r.advisory_id, e.account, e.region, e.state
