INSERT INTO advisory (id, feed, summary, severity, severity_rank, aliases, published, modified,
                      withdrawn, imported)
SELECT j.id, j.feed, j.summary, j.severity, j.severity_rank, CAST(j.aliases_json AS jsonb),
       j.published, j.modified, j.withdrawn, CAST(:imported AS timestamp)
FROM json_to_recordset(CAST(:advisories AS json))
    AS j(id text, feed text, summary text, severity text, severity_rank smallint, aliases_json text,
         published timestamp, modified timestamp, withdrawn timestamp)
ON CONFLICT (id) DO NOTHING
