INSERT INTO package_source_map (os_release, binary_name, source_name)
SELECT CAST(:release AS text), j.binary_name, j.source_name
FROM json_to_recordset(CAST(:pairs AS json)) AS j(binary_name text, source_name text)
ON CONFLICT (os_release, binary_name) DO UPDATE SET source_name = EXCLUDED.source_name
