INSERT INTO advisory_range (advisory_id, os_release, scheme, package_name, names_source,
                            introduced_key, fixed_key, fixed_version, last_affected_key)
SELECT a.id, json_extract(j.value, '$.os_release'), json_extract(j.value, '$.scheme'),
       json_extract(j.value, '$.package_name'), json_extract(j.value, '$.names_source'),
       json_extract(j.value, '$.introduced_key'), json_extract(j.value, '$.fixed_key'),
       json_extract(j.value, '$.fixed_version'), json_extract(j.value, '$.last_affected_key')
FROM json_each(:ranges) AS j
JOIN advisory a ON a.id = json_extract(j.value, '$.advisory_id') AND a.imported = :imported
