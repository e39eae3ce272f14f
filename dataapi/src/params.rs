//! Named parameters: `:name` placeholders rewritten to the engine's (`$n` or `?`), and the values bound to them.
//! The scanner skips string literals, quoted identifiers, comments, PostgreSQL dollar quotes and `::` casts.

use crate::errors::ApiError;
use crate::protocol::{ArrayValue, Field, SqlParameter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}

/// The `typeHint` of a string parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeHint {
    Date,
    Time,
    Timestamp,
    Decimal,
    Json,
    Uuid,
}

impl TypeHint {
    fn parse(text: &str) -> Result<TypeHint, ApiError> {
        Ok(match text {
            "DATE" => TypeHint::Date,
            "TIME" => TypeHint::Time,
            "TIMESTAMP" => TypeHint::Timestamp,
            "DECIMAL" => TypeHint::Decimal,
            "JSON" => TypeHint::Json,
            "UUID" => TypeHint::Uuid,
            other => {
                return Err(ApiError::BadRequest(format!(
                "Invalid typeHint {other}: expected DATE, TIME, TIMESTAMP, DECIMAL, JSON or UUID"
            )))
            }
        })
    }

    /// The PostgreSQL type a hinted string is cast to (strings are bound as text).
    fn pg_type(self) -> &'static str {
        match self {
            TypeHint::Date => "date",
            TypeHint::Time => "time",
            TypeHint::Timestamp => "timestamp",
            TypeHint::Decimal => "numeric",
            TypeHint::Json => "json",
            TypeHint::Uuid => "uuid",
        }
    }
}

/// A parameter value ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ParamValue {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Text(String),
    Blob(Vec<u8>),
    Array(ArrayValue),
}

/// A named parameter of a call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    pub name: String,
    pub value: ParamValue,
    pub hint: Option<TypeHint>,
}

impl Param {
    pub(crate) fn from_wire(p: &SqlParameter) -> Result<Param, ApiError> {
        let name = p
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::BadRequest("Parameter name is required".into()))?;
        let value = match &p.value {
            None | Some(Field::IsNull(_)) => ParamValue::Null,
            Some(Field::BooleanValue(b)) => ParamValue::Bool(*b),
            Some(Field::LongValue(v)) => ParamValue::Long(*v),
            Some(Field::DoubleValue(v)) => ParamValue::Double(*v),
            Some(Field::StringValue(s)) => ParamValue::Text(s.clone()),
            Some(Field::BlobValue(b)) => ParamValue::Blob(b.0.clone()),
            Some(Field::ArrayValue(a)) => ParamValue::Array(a.clone()),
        };
        let hint = p.type_hint.as_deref().map(TypeHint::parse).transpose()?;
        Ok(Param { name, value, hint })
    }

    pub(crate) fn from_wire_list(list: &[SqlParameter]) -> Result<Vec<Param>, ApiError> {
        list.iter().map(Param::from_wire).collect()
    }
}

/// SQL in the engine's placeholder syntax with its values in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bound {
    pub sql: String,
    pub values: Vec<ParamValue>,
}

/// Rewrites `:name` placeholders for `dialect` and orders the values to bind.
pub(crate) fn bind(sql: &str, dialect: Dialect, params: &[Param]) -> Result<Bound, ApiError> {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut values = Vec::new();
    // PostgreSQL numbers each distinct parameter once and reuses `$n`; `?` engines bind each occurrence.
    let mut pg_numbers: Vec<Option<usize>> = vec![None; params.len()];
    let mut copied = 0;
    let mut missing = None;
    scan(sql, dialect, |token| {
        let Token::Param { start, end } = token else {
            return;
        };
        let name = &sql[start + 1..end];
        let Some(index) = params.iter().position(|p| p.name == name) else {
            missing.get_or_insert_with(|| name.to_string());
            return;
        };
        out.push_str(&sql[copied..start]);
        copied = end;
        let param = &params[index];
        if dialect != Dialect::Postgres {
            out.push('?');
            values.push(param.value.clone());
            return;
        }
        let number = *pg_numbers[index].get_or_insert_with(|| {
            values.push(param.value.clone());
            values.len()
        });
        match (param.hint, &param.value) {
            (Some(hint), ParamValue::Text(_) | ParamValue::Null) => {
                out.push_str(&format!("CAST(${number} AS {})", hint.pg_type()))
            }
            _ => out.push_str(&format!("${number}")),
        }
    });
    if let Some(name) = missing {
        return Err(ApiError::BadRequest(format!(
            "No value specified for parameter: {name}"
        )));
    }
    out.push_str(&sql[copied..]);
    Ok(Bound { sql: out, values })
}

/// Splits a script on top-level `;` (for ExecuteSql), dropping empty statements.
pub(crate) fn split_statements(sql: &str, dialect: Dialect) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut from = 0;
    scan(sql, dialect, |token| {
        if let Token::Semicolon(at) = token {
            parts.push(&sql[from..at]);
            from = at + 1;
        }
    });
    parts.push(&sql[from..]);
    parts.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

enum Token {
    /// `:name` spanning `start..end` (the colon included).
    Param {
        start: usize,
        end: usize,
    },
    Semicolon(usize),
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn scan(sql: &str, dialect: Dialect, mut on: impl FnMut(Token)) {
    let b = sql.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < b.len() {
        i = match b[i] {
            b'\'' => {
                // PostgreSQL only honours backslash escapes in E'...' strings; MySQL always does.
                let escape_string =
                    i > 0 && matches!(b[i - 1], b'E' | b'e') && (i < 2 || !is_ident(b[i - 2]));
                let backslash =
                    dialect == Dialect::MySql || (dialect == Dialect::Postgres && escape_string);
                skip_quoted(b, i, b'\'', backslash)
            }
            b'"' => skip_quoted(b, i, b'"', dialect == Dialect::MySql),
            b'`' if dialect != Dialect::Postgres => skip_quoted(b, i, b'`', false),
            b'-' if at(i + 1) == b'-' => skip_line(b, i),
            b'#' if dialect == Dialect::MySql => skip_line(b, i),
            b'/' if at(i + 1) == b'*' => skip_block_comment(b, i, dialect == Dialect::Postgres),
            b'$' if dialect == Dialect::Postgres => skip_dollar_quote(b, i),
            b':' if at(i + 1) == b':' => i + 2,
            b':' if is_ident_start(at(i + 1)) => {
                let mut end = i + 2;
                while end < b.len() && is_ident(b[end]) {
                    end += 1;
                }
                on(Token::Param { start: i, end });
                end
            }
            b';' => {
                on(Token::Semicolon(i));
                i + 1
            }
            _ => i + 1,
        };
    }
}

/// Index just past the quoted run starting at `start` (doubled quotes stay inside).
fn skip_quoted(b: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        if backslash && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

fn skip_line(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| start + p + 1)
}

fn skip_block_comment(b: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' && (nested || depth == 0) {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// `$tag$ ... $tag$` (tag may be empty); a `$1` placeholder or lone `$` is ordinary text.
fn skip_dollar_quote(b: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < b.len() && is_ident(b[j]) {
        j += 1;
    }
    let tag_ok = j < b.len() && b[j] == b'$' && (j == start + 1 || is_ident_start(b[start + 1]));
    if !tag_ok {
        return start + 1;
    }
    let tag = &b[start..=j];
    b[j + 1..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(b.len(), |p| j + 1 + p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, value: ParamValue, hint: Option<TypeHint>) -> Param {
        Param {
            name: name.into(),
            value,
            hint,
        }
    }

    #[test]
    fn rewrites_for_each_dialect() {
        let params = [
            p("id", ParamValue::Long(1), None),
            p("n", ParamValue::Text("x".into()), None),
        ];
        let sql = "select * from t where id = :id and name = :n or id = :id";
        let pg = bind(sql, Dialect::Postgres, &params).unwrap();
        assert_eq!(
            pg.sql,
            "select * from t where id = $1 and name = $2 or id = $1"
        );
        assert_eq!(pg.values.len(), 2);
        let my = bind(sql, Dialect::MySql, &params).unwrap();
        assert_eq!(
            my.sql,
            "select * from t where id = ? and name = ? or id = ?"
        );
        assert_eq!(
            my.values,
            vec![
                ParamValue::Long(1),
                ParamValue::Text("x".into()),
                ParamValue::Long(1)
            ]
        );
    }

    #[test]
    fn skips_literals_comments_and_casts() {
        let params = [p("a", ParamValue::Long(1), None)];
        let sql =
            "select ':x', \"col:y\", $q$ :z $q$, E'\\':w', x::text, :a -- :c\n/* :d /* :e */ */ ;";
        let out = bind(sql, Dialect::Postgres, &params).unwrap();
        assert_eq!(
            out.sql,
            "select ':x', \"col:y\", $q$ :z $q$, E'\\':w', x::text, $1 -- :c\n/* :d /* :e */ */ ;"
        );
        let my = bind("select 'it''s :x', `a:b`, :a # :q", Dialect::MySql, &params).unwrap();
        assert_eq!(my.sql, "select 'it''s :x', `a:b`, ? # :q");
    }

    #[test]
    fn hinted_strings_are_cast_on_postgres_only() {
        let params = [p("u", ParamValue::Text("x".into()), Some(TypeHint::Uuid))];
        let pg = bind("select :u", Dialect::Postgres, &params).unwrap();
        assert_eq!(pg.sql, "select CAST($1 AS uuid)");
        let lite = bind("select :u", Dialect::Sqlite, &params).unwrap();
        assert_eq!(lite.sql, "select ?");
    }

    #[test]
    fn missing_parameter_is_named() {
        let err = bind("select :nope", Dialect::Sqlite, &[]).unwrap_err();
        assert_eq!(
            err,
            ApiError::BadRequest("No value specified for parameter: nope".into())
        );
    }

    #[test]
    fn unknown_type_hint_is_rejected() {
        let wire = SqlParameter {
            name: Some("a".into()),
            value: Some(Field::StringValue("x".into())),
            type_hint: Some("BLOB".into()),
        };
        assert!(Param::from_wire(&wire).is_err());
    }

    #[test]
    fn splits_scripts_outside_literals() {
        let parts = split_statements("select ';'; select 2 ;\n", Dialect::MySql);
        assert_eq!(parts, vec!["select ';'", " select 2 "]);
    }
}
