INSERT INTO advisory (id, feed, summary, severity, severity_rank, aliases, published, modified,
                      withdrawn, imported)
SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.feed'),
       json_extract(j.value, '$.summary'), json_extract(j.value, '$.severity'),
       json_extract(j.value, '$.severity_rank'), json_extract(j.value, '$.aliases_json'),
       json_extract(j.value, '$.published'), json_extract(j.value, '$.modified'),
       json_extract(j.value, '$.withdrawn'), :imported
FROM json_each(:advisories) AS j
WHERE true
ON CONFLICT (id) DO NOTHING
