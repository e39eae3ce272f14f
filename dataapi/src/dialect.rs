//! Which SQL a cluster speaks: how placeholders, quoting and types are read
//! (`lexer`, `params`), and how results are described (`values`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}
