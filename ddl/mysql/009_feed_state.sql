-- Schema 9: the scheduled advisory import's state, one row per feed
-- (`feed`: "osv:Debian", "alas:2023", ...). `etag` and `last_modified` are
-- the validators of the last file imported whole, sent back as If-None-Match
-- and If-Modified-Since; they belong to `url` (an Amazon Linux repository
-- moves its updateinfo file to a new URL on each release). A failed attempt
-- sets `error` and `failed_at` and keeps the validators: the last good data
-- stays, and the next run downloads again. A success clears `error`.

CREATE TABLE IF NOT EXISTS feed_state (
    feed VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    url TEXT NULL,
    etag TEXT NULL,
    last_modified VARCHAR(100) NULL,
    checked_at DATETIME(6) NOT NULL,
    succeeded_at DATETIME(6) NULL,
    failed_at DATETIME(6) NULL,
    error TEXT NULL,
    PRIMARY KEY (feed)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
