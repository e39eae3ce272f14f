INSERT INTO package_source_map (os_release, binary_name, source_name)
SELECT :release, json_extract(j.value, '$.binary_name'), json_extract(j.value, '$.source_name')
FROM json_each(:pairs) AS j
WHERE true
ON CONFLICT (os_release, binary_name) DO UPDATE SET source_name = excluded.source_name
