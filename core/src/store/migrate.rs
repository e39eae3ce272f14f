//! Versioned schema files (`ddl/<dialect>/NNN_name.sql`), applied through the
//! Data API one statement per call, then the write routines' current
//! definition (`ddl/<dialect>/routines.sql`) when a file was pending or the
//! routines changed (their checksum, in `schema_routines`). PostgreSQL and SQLite apply all
//! pending files and the routines in ONE transaction: a file that drops a
//! routine the old routines call never leaves the writes broken, not even
//! when a later file fails. MySQL commits DDL as it goes, so its files are
//! idempotent.

use super::calls::Tx;
use super::sql::{Routines, Writes};
use super::values::{long, now, text, time};
use super::{Dialect, Store, StoreError};

/// Schema versions before and after [`Store::migrate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub from: u32,
    pub to: u32,
}

/// One schema version: its number and the file per dialect.
pub(crate) struct SchemaFile {
    pub(crate) version: u32,
    postgres: &'static str,
    mysql: &'static str,
    sqlite: &'static str,
}

pub(crate) const FILES: &[SchemaFile] = &[
    SchemaFile {
        version: 1,
        postgres: include_str!("../../../ddl/postgres/001_initial.sql"),
        mysql: include_str!("../../../ddl/mysql/001_initial.sql"),
        sqlite: include_str!("../../../ddl/sqlite/001_initial.sql"),
    },
    // The instance writes as server-side routines: one call each. SQLite
    // (local only) keeps its transaction, so its file changes nothing.
    SchemaFile {
        version: 2,
        postgres: include_str!("../../../ddl/postgres/002_write_routines.sql"),
        mysql: include_str!("../../../ddl/mysql/002_write_routines.sql"),
        sqlite: include_str!("../../../ddl/sqlite/002_write_routines.sql"),
    },
    // The fleet walk's cursor, one row per account and region.
    SchemaFile {
        version: 3,
        postgres: include_str!("../../../ddl/postgres/003_sync_cursor.sql"),
        mysql: include_str!("../../../ddl/mysql/003_sync_cursor.sql"),
        sqlite: include_str!("../../../ddl/sqlite/003_sync_cursor.sql"),
    },
    // Version sort keys for ranges, and the history of changes: the write
    // routines are replaced by ones that record it in the same call.
    SchemaFile {
        version: 4,
        postgres: include_str!("../../../ddl/postgres/004_versions_history.sql"),
        mysql: include_str!("../../../ddl/mysql/004_versions_history.sql"),
        sqlite: include_str!("../../../ddl/sqlite/004_versions_history.sql"),
    },
    // No table changes: the routines record a first write without a diff.
    SchemaFile {
        version: 5,
        postgres: include_str!("../../../ddl/postgres/005_first_write.sql"),
        mysql: include_str!("../../../ddl/mysql/005_first_write.sql"),
        sqlite: include_str!("../../../ddl/sqlite/005_first_write.sql"),
    },
    // The OS release of an instance, packages per (name, version, scheme),
    // advisories and the findings that match them to packages.
    SchemaFile {
        version: 6,
        postgres: include_str!("../../../ddl/postgres/006_advisories.sql"),
        mysql: include_str!("../../../ddl/mysql/006_advisories.sql"),
        sqlite: include_str!("../../../ddl/sqlite/006_advisories.sql"),
    },
    // PostgreSQL: the package links without foreign keys (a query per
    // link); a trigger removes a deleted instance's links.
    SchemaFile {
        version: 7,
        postgres: include_str!("../../../ddl/postgres/007_link_keys.sql"),
        mysql: include_str!("../../../ddl/mysql/007_link_keys.sql"),
        sqlite: include_str!("../../../ddl/sqlite/007_link_keys.sql"),
    },
    // What the central functions heard from each account and region.
    SchemaFile {
        version: 8,
        postgres: include_str!("../../../ddl/postgres/008_scope_coverage.sql"),
        mysql: include_str!("../../../ddl/mysql/008_scope_coverage.sql"),
        sqlite: include_str!("../../../ddl/sqlite/008_scope_coverage.sql"),
    },
    // The scheduled advisory import's validators and last outcome per feed.
    SchemaFile {
        version: 9,
        postgres: include_str!("../../../ddl/postgres/009_feed_state.sql"),
        mysql: include_str!("../../../ddl/mysql/009_feed_state.sql"),
        sqlite: include_str!("../../../ddl/sqlite/009_feed_state.sql"),
    },
    // The fleet's counts, recounted whole when older than an age.
    SchemaFile {
        version: 10,
        postgres: include_str!("../../../ddl/postgres/010_fleet_tally.sql"),
        mysql: include_str!("../../../ddl/mysql/010_fleet_tally.sql"),
        sqlite: include_str!("../../../ddl/sqlite/010_fleet_tally.sql"),
    },
    // MySQL: an index that tells whether any package lacks its sort key, so
    // that a write's lookup reads the identity index alone.
    SchemaFile {
        version: 11,
        postgres: include_str!("../../../ddl/postgres/011_keyless_packages.sql"),
        mysql: include_str!("../../../ddl/mysql/011_keyless_packages.sql"),
        sqlite: include_str!("../../../ddl/sqlite/011_keyless_packages.sql"),
    },
];

/// The newest schema version this build knows: the last file's.
pub const SCHEMA_VERSION: u32 = FILES[FILES.len() - 1].version;

/// The write routines as they are now, applied after the versioned files
/// whenever any is pending, and whenever the file's checksum differs from the
/// one the database recorded. A versioned file drops what a routine change
/// leaves behind (a function whose arguments changed). SQLite has no stored
/// routines.
pub(crate) fn routines(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::Postgres => Some(include_str!("../../../ddl/postgres/routines.sql")),
        Dialect::Mysql => Some(include_str!("../../../ddl/mysql/routines.sql")),
        Dialect::Sqlite => None,
    }
}

impl SchemaFile {
    pub(crate) fn text(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::Mysql => self.mysql,
            Dialect::Sqlite => self.sqlite,
        }
    }
}

/// Splits a schema file into statements, each sent in its own call (the
/// hosted Data API runs one statement per call):
/// - a statement ends with `;` at the end of a line;
/// - inside a dollar-quoted body (`$$ ... $$`, PostgreSQL) nothing ends it;
/// - between the lines `DELIMITER //` and `DELIMITER ;` (the mysql client's
///   convention, around MySQL routine bodies) a statement ends with `//` at
///   the end of a line instead;
/// - a `CREATE TRIGGER` (SQLite) ends with the line `END;`, as the sqlite3
///   shell reads it;
/// - `--` comment lines are dropped.
///
/// Public for benches that load an earlier revision's files.
pub fn schema_statements(file: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut terminator = ";".to_owned();
    let mut in_dollar_quote = false;
    for line in file.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        if let Some(delimiter) = trimmed.strip_prefix("DELIMITER ") {
            terminator = delimiter.trim().to_owned();
            continue;
        }
        if trimmed.matches("$$").count() % 2 == 1 {
            in_dollar_quote = !in_dollar_quote;
        }
        let in_trigger = (current.starts_with("CREATE TRIGGER")
            || trimmed.starts_with("CREATE TRIGGER"))
            && trimmed != "END;";
        match trimmed.strip_suffix(terminator.as_str()) {
            Some(last) if !in_dollar_quote && !in_trigger => {
                current.push_str(last.trim_end());
                out.push(std::mem::take(&mut current));
            }
            _ => {
                current.push_str(trimmed);
                current.push('\n');
            }
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// The routines of a dialect with their checksum (SHA-256 of the file, hex).
struct RoutinesFile {
    text: &'static str,
    checksum: String,
}

impl RoutinesFile {
    fn of(dialect: Dialect) -> Option<Self> {
        use sha2::{Digest, Sha256};
        routines(dialect).map(|text| Self {
            text,
            checksum: format!("{:x}", Sha256::digest(text)),
        })
    }
}

impl Store {
    /// Applies pending schema files, and the write routines when any file
    /// was pending or when `routines.sql` differs from what the database
    /// holds (by checksum): a routine change needs no schema version, and a
    /// database runs the routines of the build that migrated it last (a
    /// rollback of the code rolls them back too). Idempotent: a second run
    /// only reads.
    pub async fn migrate(&self) -> Result<Migration, StoreError> {
        let dialect = self.dialect();
        let sql = self.sql();
        self.run("migrate.bootstrap", sql.schema_version_create, &[])
            .await?;
        let out = self
            .query("migrate.version", sql.schema_version_read, &[])
            .await?;
        let from = match out.first() {
            Some(row) => u32::try_from(row.long("version")?)
                .map_err(|_| StoreError::Migration("negative schema version".into()))?,
            None => 0,
        };
        if from > SCHEMA_VERSION {
            return Err(StoreError::Migration(format!(
                "the database has schema version {from}, newer than this build's {SCHEMA_VERSION}"
            )));
        }
        let pending: Vec<&SchemaFile> = FILES.iter().filter(|f| f.version > from).collect();
        let routines = match (&sql.writes, RoutinesFile::of(dialect)) {
            (Writes::Routines(r), Some(file)) => {
                let held = self.routines_checksum(r).await?;
                let stale = !pending.is_empty() || held.as_deref() != Some(file.checksum.as_str());
                stale.then_some((r, file))
            }
            _ => None,
        };
        if pending.is_empty() && routines.is_none() {
            return Ok(Migration { from, to: from });
        }
        if dialect == Dialect::Mysql {
            self.apply_pending(None, &pending, routines).await?;
        } else {
            let tx = self.begin().await?;
            let result = self.apply_pending(Some(&tx), &pending, routines).await;
            self.finish(tx, result).await?;
        }
        tracing::info!(from, to = SCHEMA_VERSION, %dialect, "schema migrated");
        Ok(Migration {
            from,
            to: SCHEMA_VERSION,
        })
    }

    /// The checksum of the routines the database holds, creating its table
    /// when missing; `None` before any was recorded.
    async fn routines_checksum(&self, r: &Routines) -> Result<Option<String>, StoreError> {
        self.run("migrate.bootstrap", r.checksum_create, &[])
            .await?;
        let out = self.query("migrate.routines", r.checksum_read, &[]).await?;
        out.first()
            .map(|row| row.str("checksum").map(str::to_owned))
            .transpose()
    }

    /// Each pending file's statements and its `schema_version` row, then
    /// the routines and their checksum when given, in `tx` if given.
    async fn apply_pending(
        &self,
        tx: Option<&Tx>,
        pending: &[&SchemaFile],
        routines: Option<(&Routines, RoutinesFile)>,
    ) -> Result<(), StoreError> {
        let dialect = self.dialect();
        for file in pending {
            self.apply_statements(tx, schema_statements(file.text(dialect)))
                .await?;
            let record = [long("version", file.version.into()), time("applied", now())];
            self.execute(
                "migrate.record",
                tx,
                self.sql().schema_version_record,
                &record,
            )
            .await?;
        }
        if let Some((r, file)) = routines {
            self.apply_statements(tx, schema_statements(file.text))
                .await?;
            let record = [text("checksum", file.checksum), time("applied", now())];
            self.execute("migrate.routines", tx, r.checksum_record, &record)
                .await?;
            tracing::info!(%dialect, "write routines applied");
        }
        Ok(())
    }

    async fn apply_statements(&self, tx: Option<&Tx>, ddl: Vec<String>) -> Result<(), StoreError> {
        for sql in ddl {
            self.execute("migrate.ddl", tx, &sql, &[]).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_into_statements() {
        let s =
            schema_statements("-- c\nCREATE TABLE a (\n  x int\n);\n\nCREATE INDEX i ON a (x);\n");
        assert_eq!(
            s,
            vec!["CREATE TABLE a (\nx int\n)", "CREATE INDEX i ON a (x)"]
        );
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            let texts = FILES.iter().map(|f| f.text(d)).chain(routines(d));
            for text in texts {
                for s in schema_statements(text) {
                    // Named parameters start with ':'; DDL must have none.
                    assert!(!s.contains(':'), "{d}: {s}");
                    // Only a routine's body holds a ';'.
                    let routine = s.starts_with("CREATE OR REPLACE FUNCTION")
                        || s.starts_with("CREATE FUNCTION")
                        || s.starts_with("CREATE PROCEDURE")
                        || s.starts_with("CREATE TRIGGER");
                    assert!(routine || !s.contains(';'), "{d}: {s}");
                }
            }
        }
        assert_eq!(FILES.last().map(|f| f.version), Some(SCHEMA_VERSION));
    }

    #[test]
    fn routine_bodies_stay_whole() {
        let pg =
            "CREATE FUNCTION f() RETURNS void AS $$\nBEGIN\n  PERFORM 1;\nEND\n$$;\nSELECT 1;\n";
        assert_eq!(
            schema_statements(pg),
            vec![
                "CREATE FUNCTION f() RETURNS void AS $$\nBEGIN\nPERFORM 1;\nEND\n$$",
                "SELECT 1"
            ]
        );
        let sqlite = "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\n  DELETE FROM b;\n  INSERT INTO b VALUES (1);\nEND;\nSELECT 3;\n";
        assert_eq!(
            schema_statements(sqlite),
            vec![
                "CREATE TRIGGER t AFTER INSERT ON a\nBEGIN\nDELETE FROM b;\nINSERT INTO b VALUES (1);\nEND",
                "SELECT 3"
            ]
        );
        let mysql = "DROP PROCEDURE IF EXISTS p;\nDELIMITER //\n-- c\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND //\nDELIMITER ;\nSELECT 2;\n";
        assert_eq!(
            schema_statements(mysql),
            vec![
                "DROP PROCEDURE IF EXISTS p",
                "CREATE PROCEDURE p()\nBEGIN\nSELECT 1;\nEND",
                "SELECT 2"
            ]
        );
        let bodies = |text| {
            schema_statements(text)
                .iter()
                .filter(|s| s.contains("BEGIN"))
                .count()
        };
        // The lock helper, the link routine, the three writes and the
        // recount of the fleet's counts.
        assert_eq!(routines(Dialect::Postgres).map(bodies), Some(6));
        assert_eq!(routines(Dialect::Mysql).map(bodies), Some(6));
        assert_eq!(routines(Dialect::Sqlite), None);
    }
}
