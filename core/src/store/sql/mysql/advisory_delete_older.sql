DELETE a
FROM JSON_TABLE(:advisories, '$[*]' COLUMNS (
        id VARCHAR(128) PATH '$.id', modified DATETIME(6) PATH '$.modified')) AS j
STRAIGHT_JOIN advisory a ON a.id = CONVERT(j.id USING ascii)
WHERE a.modified < j.modified
