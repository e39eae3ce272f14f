DELETE FROM advisory a
USING json_to_recordset(CAST(:advisories AS json)) AS j(id text, modified timestamp)
WHERE a.id = j.id AND a.modified < j.modified
