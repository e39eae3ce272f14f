//! The application's database role: the login `http-api` and `state-change`
//! use, with DML on the inventory tables and EXECUTE on its routines, nothing
//! else (no DDL, no other database). The schema function creates it, or
//! resets its password and grants, as the master user after each migration.
//!
//! Every statement is one Data API call. Names and values are bound where the
//! engine allows it; it does not for a role's name, a database or schema name,
//! or the password of `CREATE ROLE` / `CREATE USER` (utility statements take no
//! parameters in PostgreSQL, and MySQL prepares no account management with
//! placeholders). Those are checked against a strict alphabet and quoted here:
//! identifiers are `[A-Za-z_][A-Za-z0-9_]*` (quoted, so their case is kept),
//! the password is printable ASCII without
//! quotes, backslashes or spaces (the template generates letters and digits).
//! The password is never logged, and a failed statement that holds it reports
//! the step and the error code only: MySQL quotes the statement in its errors.

use std::fmt;

use aws_sdk_rdsdata::error::ProvideErrorMetadata;
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use inventory_core::store::{DbTarget, Dialect};
use serde::Deserialize;

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
    pub fn from_secret_string(text: &str) -> Result<Self, RoleError> {
        serde_json::from_str(text).map_err(|_| RoleError::BadSecret)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("the application secret is not JSON with a username and a password")]
    BadSecret,
    #[error("{what} {name:?} is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63)")]
    BadIdentifier { what: &'static str, name: String },
    #[error("the application password must be 16 to 128 printable ASCII characters without quotes, backslashes or spaces")]
    BadPassword,
    #[error("database role step {step} failed: {message}")]
    Statement { step: &'static str, message: String },
}

fn identifier(what: &'static str, name: &str) -> Result<String, RoleError> {
    let mut chars = name.chars();
    let plain = name.len() <= 63
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(name.to_string())
    } else {
        Err(RoleError::BadIdentifier {
            what,
            name: name.to_string(),
        })
    }
}

/// The password as an SQL string literal, for both engines.
fn password_literal(password: &str) -> Result<String, RoleError> {
    let safe = (16..=128).contains(&password.len())
        && password
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '\'' | '"' | '\\' | '`'));
    if safe {
        Ok(format!("'{password}'"))
    } else {
        Err(RoleError::BadPassword)
    }
}

/// One statement of the role's set-up.
struct Step {
    name: &'static str,
    sql: String,
    params: Vec<SqlParameter>,
    /// The statement holds the password: its error message is not repeated.
    holds_secret: bool,
}

fn step(name: &'static str, sql: String) -> Step {
    Step {
        name,
        sql,
        params: Vec::new(),
        holds_secret: false,
    }
}

fn text_param(name: &str, value: &str) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(Field::StringValue(value.to_string()))
        .build()
}

/// Runs statements as the master user of `target`.
struct Admin<'a> {
    client: &'a aws_sdk_rdsdata::Client,
    target: &'a DbTarget,
}

impl Admin<'_> {
    async fn run(
        &self,
        step: &Step,
    ) -> Result<aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput, RoleError>
    {
        self.client
            .execute_statement()
            .resource_arn(&self.target.resource_arn)
            .secret_arn(&self.target.secret_arn)
            .set_database(self.target.database.clone())
            .sql(&step.sql)
            .set_parameters(Some(step.params.clone()))
            .send()
            .await
            .map_err(|e| {
                let code = e.code().unwrap_or("no error code").to_string();
                let message = match (step.holds_secret, e.message()) {
                    (false, Some(m)) => format!("{code}: {m}"),
                    _ => code,
                };
                RoleError::Statement {
                    step: step.name,
                    message,
                }
            })
    }

    /// The first column of the first row, as text.
    async fn text(&self, step: &Step) -> Result<Option<String>, RoleError> {
        let out = self.run(step).await?;
        Ok(out
            .records()
            .first()
            .and_then(|row| row.first())
            .and_then(|f| f.as_string_value().ok().cloned()))
    }
}

/// Creates the application role (or resets its password) and grants it DML
/// on every table and EXECUTE on every routine of the inventory's schema,
/// today's and those later migrations create. SQLite has no roles: nothing to do.
pub async fn ensure_app_role(
    client: &aws_sdk_rdsdata::Client,
    target: &DbTarget,
    app: &AppCredentials,
) -> Result<(), RoleError> {
    let role = identifier("role", &app.username)?;
    let password = password_literal(&app.password)?;
    let admin = Admin { client, target };
    let steps = match target.dialect {
        Dialect::Sqlite => return Ok(()),
        Dialect::Postgres => postgres_steps(&admin, &role, &password).await?,
        Dialect::Mysql => mysql_steps(&admin, &role, &password).await?,
    };
    for s in &steps {
        admin.run(s).await?;
    }
    tracing::info!(role = %role, dialect = %target.dialect, steps = steps.len(), "application role ready");
    Ok(())
}

async fn postgres_steps(
    admin: &Admin<'_>,
    role: &str,
    password: &str,
) -> Result<Vec<Step>, RoleError> {
    let exists = Step {
        params: vec![text_param("role", role)],
        ..step(
            "find role",
            "SELECT rolname FROM pg_roles WHERE rolname = :role".into(),
        )
    };
    let verb = match admin.text(&exists).await? {
        Some(_) => "ALTER",
        None => "CREATE",
    };
    let names = step(
        "find schema",
        "SELECT current_schema() || ' ' || current_database()".into(),
    );
    let found = admin.text(&names).await?.unwrap_or_default();
    let (schema, database) = found.split_once(' ').unwrap_or_default();
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

async fn mysql_steps(
    admin: &Admin<'_>,
    role: &str,
    password: &str,
) -> Result<Vec<Step>, RoleError> {
    let database = admin
        .text(&step("find database", "SELECT DATABASE()".into()))
        .await?
        .unwrap_or_default();
    let database = identifier("database", &database)?;
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
    // cannot take a table back from a database-level grant). The resource runs
    // after every migration, so tables a migration adds are granted then.
    let tables = admin
        .run(&step(
            "find tables",
            "SELECT table_name FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' \
             AND table_name <> 'schema_version' ORDER BY table_name"
                .into(),
        ))
        .await?;
    for row in tables.records() {
        let name = row
            .first()
            .and_then(|f| f.as_string_value().ok())
            .map(String::as_str)
            .unwrap_or_default();
        let table = identifier("table", name)?;
        steps.push(step(
            "tables",
            format!("GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.`{table}` TO {account}"),
        ));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_plain_lower_case() {
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
            Err(RoleError::BadSecret)
        ));
    }
}
