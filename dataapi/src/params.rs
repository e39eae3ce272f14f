//! Named parameters: `:name` placeholders (numbered ones like `:0` too) rewritten to the engine's
//! (`$n` or `?`), and the values bound to them.

use crate::dialect::Dialect;
use crate::errors::ApiError;
use crate::lexer::{scan, Token};
use crate::protocol::{Field, SqlParameter};

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
            // As the service documents: arrays come back in results but are not taken as parameters.
            Some(Field::ArrayValue(_)) => {
                return Err(ApiError::BadRequest(
                    "Array parameters are not supported.".into(),
                ))
            }
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
    fn numbered_names_bind_like_any_other() {
        let params = [
            p("0", ParamValue::Long(7), None),
            p("1", ParamValue::Text("x".into()), None),
        ];
        let sql = "select :1, :0 where ':0' <> x::text";
        let pg = bind(sql, Dialect::Postgres, &params).unwrap();
        assert_eq!(pg.sql, "select $1, $2 where ':0' <> x::text");
        assert_eq!(
            pg.values,
            vec![ParamValue::Text("x".into()), ParamValue::Long(7)]
        );
        let lite = bind(sql, Dialect::Sqlite, &params).unwrap();
        assert_eq!(lite.sql, "select ?, ? where ':0' <> x::text");
        let err = bind("select :2", Dialect::MySql, &params).unwrap_err();
        assert_eq!(
            err,
            ApiError::BadRequest("No value specified for parameter: 2".into())
        );
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
}
