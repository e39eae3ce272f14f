INSERT INTO ec2_history (ec2_id, changed_at, source, kind, package_name, old_version, new_version)
WITH wanted AS (
    SELECT p.id, p.name, p.version
    FROM json_each(:packages) AS j
    JOIN package p ON p.name = json_extract(j.value, '$.n') AND p.version = json_extract(j.value, '$.v')
    AND p.scheme = :version_scheme
), unlinked AS (
    SELECT p.name, p.version
    FROM ec2_package ep
    JOIN package p ON p.id = ep.package_id
    WHERE ep.ec2_id = :id AND ep.package_id NOT IN (SELECT id FROM wanted)
), linked AS (
    SELECT w.name, w.version
    FROM wanted w
    WHERE NOT EXISTS (SELECT 1 FROM ec2_package ep WHERE ep.ec2_id = :id AND ep.package_id = w.id)
), gone AS (
    SELECT name, version FROM unlinked EXCEPT SELECT name, version FROM linked
), came AS (
    SELECT name, version FROM linked EXCEPT SELECT name, version FROM unlinked
), changed AS (
    SELECT g.name, MIN(g.version) AS old_version, MIN(c.version) AS new_version
    FROM gone g JOIN came c ON c.name = g.name
    GROUP BY g.name HAVING COUNT(DISTINCT g.version) = 1 AND COUNT(DISTINCT c.version) = 1
)
SELECT :id, :at, :source, 'changed', name, old_version, new_version FROM changed
UNION ALL
SELECT :id, :at, :source, 'removed', name, version, NULL FROM gone
WHERE name NOT IN (SELECT name FROM changed)
UNION ALL
SELECT :id, :at, :source, 'installed', name, NULL, version FROM came
WHERE name NOT IN (SELECT name FROM changed)
