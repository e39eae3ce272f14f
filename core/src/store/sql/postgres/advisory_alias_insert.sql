INSERT INTO advisory_alias (alias, advisory_id)
SELECT j.alias, j.advisory_id
FROM json_to_recordset(CAST(:aliases AS json)) AS j(alias text, advisory_id text)
JOIN advisory a ON a.id = j.advisory_id AND a.imported = CAST(:imported AS timestamp)
ON CONFLICT DO NOTHING
