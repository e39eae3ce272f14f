INSERT INTO package_source_map (os_release, binary_name, source_name)
SELECT :release, j.binary_name, j.source_name
FROM JSON_TABLE(:pairs, '$[*]' COLUMNS (
        binary_name VARCHAR(255) PATH '$.binary_name',
        source_name VARCHAR(255) PATH '$.source_name')) AS j
ON DUPLICATE KEY UPDATE source_name = VALUES(source_name)
