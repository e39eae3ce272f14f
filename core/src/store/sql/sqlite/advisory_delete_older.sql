DELETE FROM advisory
WHERE id IN (
    SELECT a.id
    FROM json_each(:advisories) AS j
    JOIN advisory a ON a.id = json_extract(j.value, '$.id')
    WHERE a.modified < json_extract(j.value, '$.modified'))
