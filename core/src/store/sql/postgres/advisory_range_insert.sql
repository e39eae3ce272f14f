INSERT INTO advisory_range (advisory_id, os_release, scheme, package_name, names_source,
                            introduced_key, fixed_key, fixed_version, last_affected_key)
SELECT j.advisory_id, j.os_release, j.scheme, j.package_name, j.names_source, j.introduced_key,
       j.fixed_key, j.fixed_version, j.last_affected_key
FROM json_to_recordset(CAST(:ranges AS json))
    AS j(advisory_id text, os_release text, scheme text, package_name text, names_source boolean,
         introduced_key text, fixed_key text, fixed_version text, last_affected_key text)
JOIN advisory a ON a.id = j.advisory_id AND a.imported = CAST(:imported AS timestamp)
