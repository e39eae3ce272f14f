INSERT INTO package (name, version, scheme, publisher, architecture, source_name, version_key)
SELECT json_extract(j.value, '$.n'), json_extract(j.value, '$.v'), :version_scheme,
       json_extract(j.value, '$.p'), json_extract(j.value, '$.a'), json_extract(j.value, '$.s'),
       json_extract(j.value, '$.k')
FROM json_each(:packages) AS j
WHERE true
ORDER BY j.key
ON CONFLICT (name, version, scheme) DO UPDATE SET
    publisher = COALESCE(excluded.publisher, package.publisher),
    architecture = COALESCE(excluded.architecture, package.architecture),
    source_name = COALESCE(excluded.source_name, package.source_name),
    version_key = COALESCE(package.version_key, excluded.version_key)
