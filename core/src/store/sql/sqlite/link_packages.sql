INSERT INTO ec2_package (ec2_id, package_id)
SELECT :id, p.id
FROM json_each(:packages) AS j
JOIN package p ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')
    AND p.scheme = :version_scheme
