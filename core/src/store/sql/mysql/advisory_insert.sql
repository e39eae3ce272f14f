INSERT IGNORE INTO advisory (id, feed, summary, severity, severity_rank, aliases, published,
                             modified, withdrawn, imported)
SELECT j.id, j.feed, j.summary, j.severity, j.severity_rank, j.aliases, j.published, j.modified,
       j.withdrawn, :imported
FROM JSON_TABLE(:advisories, '$[*]' COLUMNS (
        id VARCHAR(128) PATH '$.id', feed VARCHAR(8) PATH '$.feed',
        summary VARCHAR(1000) PATH '$.summary', severity VARCHAR(8) PATH '$.severity',
        severity_rank SMALLINT PATH '$.severity_rank', aliases LONGTEXT PATH '$.aliases_json',
        published DATETIME(6) PATH '$.published', modified DATETIME(6) PATH '$.modified',
        withdrawn DATETIME(6) PATH '$.withdrawn')) AS j
