INSERT OR IGNORE INTO advisory_alias (alias, advisory_id)
SELECT json_extract(j.value, '$.alias'), a.id
FROM json_each(:aliases) AS j
JOIN advisory a ON a.id = json_extract(j.value, '$.advisory_id') AND a.imported = :imported
