//! Versioned schema files (`ddl/<dialect>/NNN_name.sql`), applied through the
//! Data API one statement per call. PostgreSQL and SQLite apply each file in a
//! transaction; MySQL commits DDL as it goes, so its files are idempotent.

use super::calls::Tx;
use super::values::{long, now, time, Row};
use super::{Dialect, Migration, Store, StoreError};

/// One schema version: its number and the file per dialect.
struct SchemaFile {
    version: u32,
    postgres: &'static str,
    mysql: &'static str,
    sqlite: &'static str,
}

const FILES: &[SchemaFile] = &[SchemaFile {
    version: 1,
    postgres: include_str!("../../../ddl/postgres/001_initial.sql"),
    mysql: include_str!("../../../ddl/mysql/001_initial.sql"),
    sqlite: include_str!("../../../ddl/sqlite/001_initial.sql"),
}];

/// The newest schema version this build knows: the last file's.
pub const SCHEMA_VERSION: u32 = FILES[FILES.len() - 1].version;

impl SchemaFile {
    fn text(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::Mysql => self.mysql,
            Dialect::Sqlite => self.sqlite,
        }
    }
}

fn bootstrap_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied timestamp(6) NOT NULL)"
        }
        Dialect::Mysql => {
            "CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY, applied DATETIME(6) NOT NULL) ENGINE=InnoDB"
        }
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
        }
    }
}

fn record_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "INSERT INTO schema_version (version, applied) VALUES (:version, CAST(:applied AS timestamp))"
        }
        _ => "INSERT INTO schema_version (version, applied) VALUES (:version, :applied)",
    }
}

/// Splits a schema file into statements: a statement ends with `;` at the end
/// of a line; `--` comment lines are dropped.
pub(crate) fn statements(file: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in file.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        if let Some(last) = trimmed.strip_suffix(';') {
            current.push_str(last);
            out.push(std::mem::take(&mut current));
        } else {
            current.push_str(trimmed);
            current.push('\n');
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

impl Store {
    /// Applies pending schema files (idempotent: a second run only reads the version).
    pub async fn migrate(&self) -> Result<Migration, StoreError> {
        let dialect = self.dialect();
        self.run("migrate.bootstrap", bootstrap_sql(dialect), &[])
            .await?;
        let out = self
            .run(
                "migrate.version",
                "SELECT COALESCE(MAX(version), 0) FROM schema_version",
                &[],
            )
            .await?;
        let from = match out.records().first() {
            Some(r) => u32::try_from(Row(r).long(0)?)
                .map_err(|_| StoreError::Migration("negative schema version".into()))?,
            None => 0,
        };
        if from > SCHEMA_VERSION {
            return Err(StoreError::Migration(format!(
                "the database has schema version {from}, newer than this build's {SCHEMA_VERSION}"
            )));
        }
        for file in FILES.iter().filter(|f| f.version > from) {
            self.apply_file(file).await?;
            tracing::info!(version = file.version, %dialect, "schema migrated");
        }
        Ok(Migration {
            from,
            to: SCHEMA_VERSION.max(from),
        })
    }

    async fn apply_file(&self, file: &SchemaFile) -> Result<(), StoreError> {
        if self.dialect() == Dialect::Mysql {
            return self.apply_statements(None, file).await;
        }
        let tx = self.begin().await?;
        let result = self.apply_statements(Some(&tx), file).await;
        self.finish(tx, result).await
    }

    /// The file's statements and its `schema_version` row, in `tx` if given.
    async fn apply_statements(&self, tx: Option<&Tx>, file: &SchemaFile) -> Result<(), StoreError> {
        let dialect = self.dialect();
        for sql in statements(file.text(dialect)) {
            self.execute("migrate.ddl", tx, &sql, &[]).await?;
        }
        let record = [long("version", file.version.into()), time("applied", now())];
        self.execute("migrate.record", tx, record_sql(dialect), &record)
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_split_into_statements() {
        let s = statements("-- c\nCREATE TABLE a (\n  x int\n);\n\nCREATE INDEX i ON a (x);\n");
        assert_eq!(
            s,
            vec!["CREATE TABLE a (\nx int\n)", "CREATE INDEX i ON a (x)"]
        );
        for file in FILES {
            for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
                let stmts = statements(file.text(d));
                assert!(stmts.len() >= 3, "{d}");
                // Named parameters start with ':'; DDL must have none.
                assert!(
                    stmts.iter().all(|s| !s.contains(';') && !s.contains(':')),
                    "{d}"
                );
            }
        }
        assert_eq!(FILES.last().map(|f| f.version), Some(SCHEMA_VERSION));
    }
}
