INSERT INTO package (name, version, publisher, architecture)
SELECT json_extract(j.value, '$.n'), json_extract(j.value, '$.v'),
       json_extract(j.value, '$.p'), json_extract(j.value, '$.a')
FROM json_each(:packages) AS j
WHERE true
ORDER BY j.key
ON CONFLICT (name, version) DO UPDATE SET
    publisher = COALESCE(excluded.publisher, package.publisher),
    architecture = COALESCE(excluded.architecture, package.architecture)
