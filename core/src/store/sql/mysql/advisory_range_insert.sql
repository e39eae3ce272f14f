INSERT INTO advisory_range (advisory_id, os_release, scheme, package_name, names_source,
                            introduced_key, fixed_key, fixed_version, last_affected_key)
SELECT j.advisory_id, j.os_release, j.scheme, j.package_name, j.names_source, j.introduced_key,
       j.fixed_key, j.fixed_version, j.last_affected_key
FROM JSON_TABLE(:ranges, '$[*]' COLUMNS (
        advisory_id VARCHAR(128) PATH '$.advisory_id', os_release VARCHAR(32) PATH '$.os_release',
        scheme VARCHAR(8) PATH '$.scheme', package_name VARCHAR(255) PATH '$.package_name',
        names_source BOOLEAN PATH '$.names_source',
        introduced_key VARCHAR(700) PATH '$.introduced_key',
        fixed_key VARCHAR(700) PATH '$.fixed_key', fixed_version VARCHAR(128) PATH '$.fixed_version',
        last_affected_key VARCHAR(700) PATH '$.last_affected_key')) AS j
STRAIGHT_JOIN advisory a ON a.id = CONVERT(j.advisory_id USING ascii) AND a.imported = :imported
