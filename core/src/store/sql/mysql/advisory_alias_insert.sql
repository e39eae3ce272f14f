INSERT IGNORE INTO advisory_alias (alias, advisory_id)
SELECT j.alias, j.advisory_id
FROM JSON_TABLE(:aliases, '$[*]' COLUMNS (
        alias VARCHAR(128) PATH '$.alias', advisory_id VARCHAR(128) PATH '$.advisory_id')) AS j
STRAIGHT_JOIN advisory a ON a.id = CONVERT(j.advisory_id USING ascii) AND a.imported = :imported
