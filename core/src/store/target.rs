//! Where the store's Data API calls go: the cluster, the secret, the
//! database and the SQL dialect spoken there.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// SQL dialect of the database behind the Data API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Postgres,
    Mysql,
    Sqlite,
}

/// A dialect name [`Dialect::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("must be postgres, mysql or sqlite")]
pub struct UnknownDialect;

impl FromStr for Dialect {
    type Err = UnknownDialect;
    /// `postgres` (or `postgresql`), `mysql` or `sqlite`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" => Ok(Self::Mysql),
            "sqlite" => Ok(Self::Sqlite),
            _ => Err(UnknownDialect),
        }
    }
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Self::Postgres, Self::Mysql, Self::Sqlite];

    /// The name [`FromStr`] reads: `postgres`, `mysql` or `sqlite`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Mysql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the Data API calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbTarget {
    pub resource_arn: String,
    pub secret_arn: String,
    pub database: Option<String>,
    pub dialect: Dialect,
}
