//! PostgreSQL: strings bound as text (hinted ones cast in SQL), NULL bound untyped, prepared
//! statements cached per connection by SQL text and parameter types.

use std::borrow::Cow;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgConnection, PgQueryResult, PgRow, PgTypeInfo,
};
use sqlx::types::{BigDecimal, JsonValue, Uuid};
use sqlx::{Connection, Encode, Postgres, Row, Type, ValueRef};

use super::engine::{bind_scalar, get, quiet, type_name, Engine, Outcome};
use crate::dialect::Dialect;
use crate::errors::ApiError;
use crate::params::{Bound, ParamValue};
use crate::protocol::{ArrayValue, Blob, Field};
use crate::values::{date, postgres_type_name, text_or_blob, time, timestamp, ResultOptions};

/// Prepared statements kept per connection: a cached statement saves the Parse/Describe round
/// trip that would otherwise precede every call.
const STATEMENT_CACHE: usize = 256;

pub(super) fn options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(quiet(
        PgConnectOptions::from_str(url)?.statement_cache_capacity(STATEMENT_CACHE),
    ))
}

/// The statement cache's key: the SQL plus the types its values are bound with, since a statement
/// prepared for a `bigint` cannot take `text` (the driver keys its cache by SQL text alone).
fn cache_key(bound: &Bound) -> Cow<'_, str> {
    if bound.values.is_empty() {
        return Cow::Borrowed(&bound.sql);
    }
    let types: String = bound
        .values
        .iter()
        .map(|v| match v {
            ParamValue::Null => 'n',
            ParamValue::Bool(_) => 'b',
            ParamValue::Long(_) => 'l',
            ParamValue::Double(_) => 'd',
            ParamValue::Text(_) => 's',
            ParamValue::Blob(_) => 'x',
        })
        .collect();
    Cow::Owned(format!("{}\n/* {types} */", bound.sql))
}

/// PostgreSQL refuses a cached statement whose result columns changed since it was prepared.
fn is_stale_plan(e: &ApiError) -> bool {
    matches!(e, ApiError::Database(m) if m.contains("cached plan must not change result type"))
}

pub(super) async fn run(
    conn: &mut PgConnection,
    bound: &Bound,
    options: &ResultOptions,
    want_columns: bool,
) -> Result<Outcome, ApiError> {
    let sql = cache_key(bound);
    let values = &bound.values;
    match super::run::<Postgres>(conn, &sql, values, options, want_columns, false).await {
        // A table changed under a cached statement: prepare afresh. Inside a transaction the
        // failure has aborted it, so the retry fails too and the first error is answered.
        Err(e) if is_stale_plan(&e) => {
            conn.clear_cached_statements().await?;
            super::run::<Postgres>(conn, &sql, values, options, want_columns, false)
                .await
                .map_err(|_| e)
        }
        other => other,
    }
}

/// Result types the service refuses, arrays of them too: "certain PostgreSQL data types,
/// including geometric and monetary types" ("Comparing Data API behaviors").
const UNSUPPORTED_TYPES: [&str; 8] = [
    "MONEY", "POINT", "LINE", "LSEG", "BOX", "PATH", "POLYGON", "CIRCLE",
];

/// A NULL of unspecified type (OID 0): the server infers it from the statement.
struct UntypedNull;

impl Type<Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for UntypedNull {
    fn encode_by_ref(&self, _buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

fn strings<T>(values: Vec<Option<T>>, f: impl Fn(T) -> String) -> Field {
    Field::ArrayValue(ArrayValue::StringValues(
        values.into_iter().map(|v| v.map(&f)).collect(),
    ))
}

fn longs<T: Into<i64>>(values: Vec<Option<T>>) -> Field {
    Field::ArrayValue(ArrayValue::LongValues(
        values.into_iter().map(|v| v.map(Into::into)).collect(),
    ))
}

/// PostgreSQL's text form of a binary NUMERIC (base-10000 digit groups), keeping its display scale
/// ("12.50" stays "12.50", which a decimal type would not).
fn numeric_text(raw: &[u8]) -> Result<String, ApiError> {
    let bad = || ApiError::UnsupportedResult("Malformed NUMERIC value".into());
    let word = |at: usize| -> Result<i16, ApiError> {
        raw.get(at..at + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(bad)
    };
    let ndigits = usize::try_from(word(0)?).map_err(|_| bad())?;
    let weight = i64::from(word(2)?);
    let sign = word(4)? as u16;
    let dscale = usize::try_from(word(6)?).map_err(|_| bad())?;
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits = (0..ndigits)
        .map(|k| word(8 + 2 * k))
        .collect::<Result<Vec<i16>, _>>()?;
    let group = |i: i64| {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&group(0).to_string());
        for i in 1..=weight {
            text.push_str(&format!("{:04}", group(i)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut i = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", group(i)));
            i += 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

impl Engine for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;

    fn bind(args: &mut PgArguments, value: &ParamValue) -> Result<(), ApiError> {
        bind_scalar::<Postgres, _>(args, value, UntypedNull)
    }

    fn field(row: &PgRow, i: usize, o: &ResultOptions) -> Result<Field, ApiError> {
        let name = type_name(row, i);
        // The type is refused, so a NULL of it too; the documented way out is a cast to text.
        if UNSUPPORTED_TYPES.contains(&name.trim_end_matches("[]")) {
            return Err(ApiError::UnsupportedResult(format!(
                "The result contains the unsupported data type {}",
                postgres_type_name(&name)
            )));
        }
        if row.try_get_raw(i)?.is_null() {
            return Ok(Field::IsNull(true));
        }
        type P = Postgres;
        Ok(match name.as_str() {
            "BOOL" => Field::BooleanValue(get::<P, bool>(row, i)?),
            "INT2" => o.long(get::<P, i16>(row, i)?.into()),
            "INT4" => o.long(get::<P, i32>(row, i)?.into()),
            "INT8" => o.long(get::<P, i64>(row, i)?),
            "OID" => o.long(get::<P, Oid>(row, i)?.0.into()),
            "FLOAT4" => Field::DoubleValue(get::<P, f32>(row, i)?.into()),
            "FLOAT8" => Field::DoubleValue(get::<P, f64>(row, i)?),
            "NUMERIC" => o.decimal(numeric_text(get::<P, &[u8]>(row, i)?)?),
            "DATE" => Field::StringValue(date(get::<P, NaiveDate>(row, i)?)),
            "TIME" => Field::StringValue(time(get::<P, NaiveTime>(row, i)?)),
            "TIMESTAMP" => Field::StringValue(timestamp(get::<P, NaiveDateTime>(row, i)?)),
            "TIMESTAMPTZ" => {
                Field::StringValue(timestamp(get::<P, DateTime<Utc>>(row, i)?.naive_utc()))
            }
            "UUID" => Field::StringValue(get::<P, Uuid>(row, i)?.to_string()),
            "JSON" | "JSONB" => Field::StringValue(get::<P, JsonValue>(row, i)?.to_string()),
            "BYTEA" => Field::BlobValue(Blob(get::<P, Vec<u8>>(row, i)?)),
            "BOOL[]" => Field::ArrayValue(ArrayValue::BooleanValues(get::<P, Vec<Option<bool>>>(
                row, i,
            )?)),
            "INT2[]" => longs(get::<P, Vec<Option<i16>>>(row, i)?),
            "INT4[]" => longs(get::<P, Vec<Option<i32>>>(row, i)?),
            "INT8[]" => longs(get::<P, Vec<Option<i64>>>(row, i)?),
            "FLOAT4[]" => Field::ArrayValue(ArrayValue::DoubleValues(
                get::<P, Vec<Option<f32>>>(row, i)?
                    .into_iter()
                    .map(|v| v.map(f64::from))
                    .collect(),
            )),
            "FLOAT8[]" => Field::ArrayValue(ArrayValue::DoubleValues(get::<P, Vec<Option<f64>>>(
                row, i,
            )?)),
            "TEXT[]" | "VARCHAR[]" | "BPCHAR[]" | "NAME[]" => Field::ArrayValue(
                ArrayValue::StringValues(get::<P, Vec<Option<String>>>(row, i)?),
            ),
            "NUMERIC[]" => strings(get::<P, Vec<Option<BigDecimal>>>(row, i)?, |d| {
                d.to_plain_string()
            }),
            "DATE[]" => strings(get::<P, Vec<Option<NaiveDate>>>(row, i)?, date),
            "TIMESTAMP[]" => strings(get::<P, Vec<Option<NaiveDateTime>>>(row, i)?, timestamp),
            "UUID[]" => strings(get::<P, Vec<Option<Uuid>>>(row, i)?, |u| u.to_string()),
            // Text types, enums and domains over text arrive as their UTF-8 text.
            _ => text_or_blob(get::<P, &[u8]>(row, i)?),
        })
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

#[cfg(test)]
mod tests {
    use super::numeric_text;

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: i16, digits: &[i16]) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [ndigits, weight, sign as i16, dscale].iter().chain(digits) {
            b.extend_from_slice(&w.to_be_bytes());
        }
        b
    }

    #[test]
    fn numeric_keeps_scale_and_sign() {
        assert_eq!(
            numeric_text(&numeric(2, 0, 0, 2, &[12, 5000])).unwrap(),
            "12.50"
        );
        assert_eq!(
            numeric_text(&numeric(2, 1, 0x4000, 0, &[1, 2])).unwrap(),
            "-10002"
        );
        assert_eq!(
            numeric_text(&numeric(1, -2, 0, 6, &[1200])).unwrap(),
            "0.000012"
        );
        assert_eq!(numeric_text(&numeric(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric_text(&numeric(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert!(numeric_text(&[0, 1]).is_err());
    }
}
