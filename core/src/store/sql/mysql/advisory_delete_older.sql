DELETE a
FROM JSON_TABLE(:advisories, '$[*]' COLUMNS (
        id VARCHAR(128) PATH '$.id', modified DATETIME(6) PATH '$.modified')) AS j
STRAIGHT_JOIN advisory a ON a.id = j.id
WHERE a.modified < j.modified
