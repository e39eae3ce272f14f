INSERT INTO package (name, version, publisher, architecture, version_key)
SELECT json_extract(j.value, '$.n'), json_extract(j.value, '$.v'),
       json_extract(j.value, '$.p'), json_extract(j.value, '$.a'), json_extract(j.value, '$.k')
FROM json_each(:packages) AS j
WHERE true
ORDER BY j.key
ON CONFLICT (name, version) DO UPDATE SET
    publisher = COALESCE(excluded.publisher, package.publisher),
    architecture = COALESCE(excluded.architecture, package.architecture),
    version_key = COALESCE(package.version_key, excluded.version_key)
