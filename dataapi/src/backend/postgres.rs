//! PostgreSQL: strings bound as text (hinted ones cast in SQL), NULL bound untyped, no statement cache
//! (the same SQL may come with different parameter types).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgConnection, PgQueryResult, PgRow,
    PgTypeInfo,
};
use sqlx::types::{BigDecimal, JsonValue, Uuid};
use sqlx::{Arguments, Encode, Postgres, Row, Type, TypeInfo, ValueRef};

use super::{get, type_name, invalid_parameter, quiet, Engine};
use crate::errors::ApiError;
use crate::params::{Dialect, ParamValue};
use crate::protocol::{ArrayValue, Blob, Field};
use crate::values::{date, text_or_blob, time, timestamp, ResultOptions};

pub(super) fn options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    Ok(quiet(PgConnectOptions::from_str(url)?.statement_cache_capacity(0)))
}

pub(super) async fn set_search_path(conn: &mut PgConnection, schema: &str) -> Result<(), ApiError> {
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    sqlx::query("SELECT set_config('search_path', $1, false)")
        .bind(quoted)
        .execute(conn)
        .await?;
    Ok(())
}

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

fn bind_array<'q>(args: &mut PgArguments, array: &'q ArrayValue) -> Result<(), BoxDynError> {
    match array {
        ArrayValue::BooleanValues(v) => args.add(v.as_slice()),
        ArrayValue::LongValues(v) => args.add(v.as_slice()),
        ArrayValue::DoubleValues(v) => args.add(v.as_slice()),
        ArrayValue::StringValues(v) => args.add(v.as_slice()),
        ArrayValue::ArrayValues(_) => Err("nested arrayValues are not supported".into()),
    }
}

fn strings<T>(values: Vec<T>, f: impl Fn(T) -> String) -> Field {
    Field::ArrayValue(ArrayValue::StringValues(values.into_iter().map(f).collect()))
}

fn longs<T: Into<i64>>(values: Vec<T>) -> Field {
    Field::ArrayValue(ArrayValue::LongValues(values.into_iter().map(Into::into).collect()))
}

impl Engine for Postgres {
    const DIALECT: Dialect = Dialect::Postgres;

    fn bind<'q>(args: &mut PgArguments, value: &'q ParamValue) -> Result<(), ApiError> {
        match value {
            ParamValue::Null => args.add(UntypedNull),
            ParamValue::Bool(b) => args.add(*b),
            ParamValue::Long(v) => args.add(*v),
            ParamValue::Double(v) => args.add(*v),
            ParamValue::Text(s) => args.add(s.as_str()),
            ParamValue::Blob(b) => args.add(b.as_slice()),
            ParamValue::Array(a) => bind_array(args, a),
        }
        .map_err(invalid_parameter)
    }

    fn field(row: &PgRow, i: usize, o: &ResultOptions) -> Result<Field, ApiError> {
        if row.try_get_raw(i)?.is_null() {
            return Ok(Field::IsNull(true));
        }
        type P = Postgres;
        let name = type_name(row, i);
        Ok(match name.as_str() {
            "BOOL" => Field::BooleanValue(get::<P, bool>(row, i)?),
            "INT2" => o.long(get::<P, i16>(row, i)?.into()),
            "INT4" => o.long(get::<P, i32>(row, i)?.into()),
            "INT8" => o.long(get::<P, i64>(row, i)?),
            "OID" => o.long(get::<P, Oid>(row, i)?.0.into()),
            "FLOAT4" => Field::DoubleValue(get::<P, f32>(row, i)?.into()),
            "FLOAT8" => Field::DoubleValue(get::<P, f64>(row, i)?),
            "NUMERIC" => o.decimal(get::<P, BigDecimal>(row, i)?.to_plain_string()),
            "DATE" => Field::StringValue(date(get::<P, NaiveDate>(row, i)?)),
            "TIME" => Field::StringValue(time(get::<P, NaiveTime>(row, i)?)),
            "TIMESTAMP" => Field::StringValue(timestamp(get::<P, NaiveDateTime>(row, i)?)),
            "TIMESTAMPTZ" => {
                Field::StringValue(timestamp(get::<P, DateTime<Utc>>(row, i)?.naive_utc()))
            }
            "UUID" => Field::StringValue(get::<P, Uuid>(row, i)?.to_string()),
            "JSON" | "JSONB" => Field::StringValue(get::<P, JsonValue>(row, i)?.to_string()),
            "BYTEA" => Field::BlobValue(Blob(get::<P, Vec<u8>>(row, i)?)),
            "BOOL[]" => Field::ArrayValue(ArrayValue::BooleanValues(get::<P, Vec<bool>>(row, i)?)),
            "INT2[]" => longs(get::<P, Vec<i16>>(row, i)?),
            "INT4[]" => longs(get::<P, Vec<i32>>(row, i)?),
            "INT8[]" => longs(get::<P, Vec<i64>>(row, i)?),
            "FLOAT4[]" => Field::ArrayValue(ArrayValue::DoubleValues(
                get::<P, Vec<f32>>(row, i)?.into_iter().map(f64::from).collect(),
            )),
            "FLOAT8[]" => Field::ArrayValue(ArrayValue::DoubleValues(get::<P, Vec<f64>>(row, i)?)),
            "TEXT[]" | "VARCHAR[]" | "BPCHAR[]" | "NAME[]" => {
                Field::ArrayValue(ArrayValue::StringValues(get::<P, Vec<String>>(row, i)?))
            }
            "NUMERIC[]" => strings(get::<P, Vec<BigDecimal>>(row, i)?, |d| d.to_plain_string()),
            "DATE[]" => strings(get::<P, Vec<NaiveDate>>(row, i)?, date),
            "TIMESTAMP[]" => strings(get::<P, Vec<NaiveDateTime>>(row, i)?, timestamp),
            "UUID[]" => strings(get::<P, Vec<Uuid>>(row, i)?, |u| u.to_string()),
            // Text types, enums and domains over text arrive as their UTF-8 text.
            _ => text_or_blob(get::<P, &[u8]>(row, i)?),
        })
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}
