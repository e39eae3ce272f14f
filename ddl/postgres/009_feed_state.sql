-- Schema 9: the scheduled advisory import's state, one row per feed
-- (`feed`: "osv:Debian", "alas:2023", ...). `etag` and `last_modified` are
-- the validators of the last file imported whole, sent back as If-None-Match
-- and If-Modified-Since; they belong to `url` (an Amazon Linux repository
-- moves its updateinfo file to a new URL on each release). A failed attempt
-- sets `error` and `failed_at` and keeps the validators: the last good data
-- stays, and the next run downloads again. A success clears `error`.

CREATE TABLE feed_state (
    feed varchar(100) COLLATE "C" PRIMARY KEY,
    url text,
    etag text,
    last_modified text,
    checked_at timestamp(6) NOT NULL,
    succeeded_at timestamp(6),
    failed_at timestamp(6),
    error text
);
