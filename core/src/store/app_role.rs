//! The application's database role: the login `http-api` and `state-change`
//! use, with DML on the inventory tables and EXECUTE on its routines, nothing
//! else (no DDL, no other database). The schema function creates it, or
//! resets its password and grants, as the master user after each migration.
//!
//! Every statement is one Data API call through the store's call wrapper
//! (counted, traced, retried). Names and values are bound where the engine
//! allows it; it does not for a role's name, a database or schema name, or
//! the password of `CREATE ROLE` / `CREATE USER` (utility statements take no
//! parameters in PostgreSQL, and MySQL prepares no account management with
//! placeholders). Those are checked against a strict alphabet and quoted here:
//! identifiers are `[A-Za-z_][A-Za-z0-9_]*` (quoted, so their case is kept),
//! the password is printable ASCII without quotes, backslashes or spaces (the
//! template generates letters and digits). The password is never logged, and
//! a failed statement that holds it keeps the error code only: MySQL quotes
//! the statement in its errors.

use std::fmt;

use aws_sdk_rdsdata::types::SqlParameter;
use serde::Deserialize;

use super::values::text;
use super::{Dialect, Store, StoreError};

/// The application role's credentials, as its secret holds them.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct AppCredentials {
    pub username: String,
    password: String,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl AppCredentials {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Reads a Secrets Manager secret string (`{"username": …, "password": …}`).
    pub fn from_secret_string(text: &str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|_| {
            StoreError::AppRole(
                "the application secret is not JSON with a username and a password".into(),
            )
        })
    }
}

fn identifier(what: &'static str, name: &str) -> Result<String, StoreError> {
    let mut chars = name.chars();
    let plain = name.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(name.to_string())
    } else {
        Err(StoreError::AppRole(format!(
            "{what} {name:?} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63)"
        )))
    }
}

/// The password as an SQL string literal, for both engines.
fn password_literal(password: &str) -> Result<String, StoreError> {
    let safe = (16..=128).contains(&password.len())
        && password
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '\'' | '"' | '\\' | '`'));
    if safe {
        Ok(format!("'{password}'"))
    } else {
        Err(StoreError::AppRole(
            "the application password must be 16 to 128 printable ASCII characters without quotes, backslashes or spaces".into(),
        ))
    }
}

/// One statement of the role's set-up.
struct Step {
    name: &'static str,
    sql: String,
    /// The statement holds the password: its error message is withheld.
    holds_secret: bool,
}

fn step(name: &'static str, sql: String) -> Step {
    Step {
        name,
        sql,
        holds_secret: false,
    }
}

impl Store {
    /// Creates the application role (or resets its password) and grants it
    /// DML on every table and EXECUTE on every routine of the inventory's
    /// schema, today's and those later migrations create. Run as the
    /// master user. SQLite has no roles: nothing to do.
    pub async fn ensure_app_role(&self, app: &AppCredentials) -> Result<(), StoreError> {
        let role = identifier("role", &app.username)?;
        let password = password_literal(&app.password)?;
        let steps = match self.dialect() {
            Dialect::Sqlite => return Ok(()),
            Dialect::Postgres => self.postgres_role_steps(&role, &password).await?,
            Dialect::Mysql => self.mysql_role_steps(&role, &password).await?,
        };
        for s in &steps {
            let ran = if s.holds_secret {
                self.run_withholding_errors(s.name, &s.sql).await
            } else {
                self.run(s.name, &s.sql, &[]).await
            };
            ran.map_err(|e| StoreError::AppRole(format!("step {} failed: {e}", s.name)))?;
        }
        let dialect = self.dialect();
        tracing::info!(role = %role, %dialect, steps = steps.len(), "application role ready");
        Ok(())
    }

    /// The `name` column of each row a lookup of the role's set-up answers.
    async fn role_lookup(
        &self,
        label: &'static str,
        sql: &str,
        params: &[SqlParameter],
    ) -> Result<Vec<String>, StoreError> {
        let out = self.query(label, sql, params).await?;
        out.iter()
            .map(|row| Ok(row.opt_str("name")?.unwrap_or_default().to_owned()))
            .collect()
    }

    async fn postgres_role_steps(
        &self,
        role: &str,
        password: &str,
    ) -> Result<Vec<Step>, StoreError> {
        let found = self
            .role_lookup(
                "find role",
                "SELECT rolname AS name FROM pg_roles WHERE rolname = :role",
                &[text("role", role)],
            )
            .await?;
        let verb = if found.is_empty() { "CREATE" } else { "ALTER" };
        let names = self
            .role_lookup(
                "find schema",
                "SELECT current_schema() || ' ' || current_database() AS name",
                &[],
            )
            .await?;
        let names = names.first().map_or("", String::as_str);
        let (schema, database) = names.split_once(' ').unwrap_or_default();
        // Double quotes keep the names exactly as the catalog holds them.
        let schema = format!("\"{}\"", identifier("schema", schema)?);
        let database = format!("\"{}\"", identifier("database", database)?);
        let role = format!("\"{role}\"");
        let on_schema = |name, sql: &str| step(name, sql.replace("{schema}", &schema));
        Ok(vec![
            Step {
                holds_secret: true,
                ..step(
                    "login",
                    format!("{verb} ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {password}"),
                )
            },
            step(
                "connect",
                format!("GRANT CONNECT ON DATABASE {database} TO {role}"),
            ),
            // PostgreSQL before 15 lets everyone create objects in `public`.
            on_schema("no ddl", "REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC"),
            on_schema("schema", &format!("GRANT USAGE ON SCHEMA {{schema}} TO {role}")),
            on_schema(
                "tables",
                &format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {{schema}} TO {role}"),
            ),
            // The migrations' bookkeeping is the master's alone.
            on_schema(
                "schema_version",
                &format!("REVOKE ALL ON TABLE {{schema}}.schema_version FROM {role}"),
            ),
            on_schema(
                "sequences",
                &format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {{schema}} TO {role}"),
            ),
            on_schema(
                "routines",
                &format!("GRANT EXECUTE ON ALL ROUTINES IN SCHEMA {{schema}} TO {role}"),
            ),
            // What later migrations (run as this master user) create is covered too.
            on_schema(
                "future tables",
                &format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {{schema}} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"),
            ),
            on_schema(
                "future sequences",
                &format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {{schema}} GRANT USAGE, SELECT ON SEQUENCES TO {role}"),
            ),
            on_schema(
                "future routines",
                &format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {{schema}} GRANT EXECUTE ON ROUTINES TO {role}"),
            ),
        ])
    }

    async fn mysql_role_steps(&self, role: &str, password: &str) -> Result<Vec<Step>, StoreError> {
        let database = self
            .role_lookup("find database", "SELECT DATABASE() AS name", &[])
            .await?;
        let database = identifier("database", database.first().map_or("", String::as_str))?;
        // The Data API connects from its own hosts: the account is for any host.
        let account = format!("'{role}'@'%'");
        let mut steps = vec![
            Step {
                holds_secret: true,
                ..step(
                    "create user",
                    format!("CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {password}"),
                )
            },
            // An existing user gets the secret's current password.
            Step {
                holds_secret: true,
                ..step(
                    "password",
                    format!("ALTER USER {account} IDENTIFIED BY {password}"),
                )
            },
            // A database-level grant covers the procedures later migrations add.
            step(
                "routines",
                format!("GRANT EXECUTE ON `{database}`.* TO {account}"),
            ),
        ];
        // Table by table, so that `schema_version` stays the master's (MySQL
        // cannot take a table back from a database-level grant). The resource
        // runs after every migration, so tables a migration adds are granted
        // then.
        let tables = self
            .role_lookup(
                "find tables",
                "SELECT table_name AS name FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' \
                 AND table_name <> 'schema_version' ORDER BY table_name",
                &[],
            )
            .await?;
        for name in &tables {
            let table = identifier("table", name)?;
            steps.push(step(
                "tables",
                format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.`{table}` TO {account}"
                ),
            ));
        }
        Ok(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_plain() {
        assert!(identifier("role", "inventory_app").is_ok());
        assert!(identifier("database", "Inventory_2").is_ok());
        for bad in [
            "",
            "1app",
            "a-b",
            "a\"b",
            "a`b",
            "a'b",
            "a b",
            &"a".repeat(64),
        ] {
            assert!(identifier("role", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_quoted_only_when_safe() {
        let generated = "Zx81QwErTy0123456789abcdefGHIJKL";
        assert_eq!(
            password_literal(generated).unwrap(),
            format!("'{generated}'")
        );
        for bad in [
            "short",
            "abcdefghijklmnop'; DROP ROLE x; --",
            "abcdefghijklmnop\\",
            "abcdefghijklmnop q",
            "abcdefghijklmnop\"",
            "abcdefghijklmnopé",
        ] {
            assert!(password_literal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credentials_never_print_the_password() {
        let app = AppCredentials::from_secret_string(
            r#"{"username":"inventory_app","password":"Secret0123456789"}"#,
        )
        .unwrap();
        assert_eq!(app.username, "inventory_app");
        assert!(!format!("{app:?}").contains("Secret0123456789"));
        assert!(matches!(
            AppCredentials::from_secret_string("{}"),
            Err(StoreError::AppRole(_))
        ));
    }
}
