//! Result values as Aurora returns them: text formats for times and decimals, `resultSetOptions`,
//! column metadata and `formattedRecords`.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::dialect::Dialect;
use crate::errors::ApiError;
use crate::protocol::{ArrayValue, ColumnMetadata, Field, ResultSetOptions};

/// How numbers are returned (`resultSetOptions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResultOptions {
    /// `longReturnType: STRING`.
    pub long_as_string: bool,
    /// `decimalReturnType: DOUBLE_OR_LONG` (default STRING).
    pub decimal_as_number: bool,
}

impl ResultOptions {
    pub(crate) fn from_wire(options: Option<&ResultSetOptions>) -> Result<ResultOptions, ApiError> {
        let Some(o) = options else {
            return Ok(ResultOptions::default());
        };
        let long_as_string = match o.long_return_type.as_deref() {
            None | Some("LONG") => false,
            Some("STRING") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "Invalid longReturnType {other}: expected LONG or STRING"
                )))
            }
        };
        let decimal_as_number = match o.decimal_return_type.as_deref() {
            None | Some("STRING") => false,
            Some("DOUBLE_OR_LONG") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "Invalid decimalReturnType {other}: expected STRING or DOUBLE_OR_LONG"
                )))
            }
        };
        Ok(ResultOptions {
            long_as_string,
            decimal_as_number,
        })
    }

    pub(crate) fn long(&self, v: i64) -> Field {
        if self.long_as_string {
            Field::StringValue(v.to_string())
        } else {
            Field::LongValue(v)
        }
    }

    /// An unsigned integer: a long when it fits, else its decimal text.
    pub(crate) fn unsigned(&self, v: u64) -> Field {
        i64::try_from(v).map_or_else(|_| Field::StringValue(v.to_string()), |v| self.long(v))
    }

    /// A decimal given as its exact text.
    pub(crate) fn decimal(&self, text: String) -> Field {
        if !self.decimal_as_number {
            return Field::StringValue(text);
        }
        if !text.contains(['.', 'e', 'E']) {
            if let Ok(v) = text.parse::<i64>() {
                return Field::LongValue(v);
            }
        }
        text.parse::<f64>()
            .map_or(Field::StringValue(text), Field::DoubleValue)
    }
}

fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        return String::new();
    }
    let digits = format!(".{:09}", nanos % 1_000_000_000);
    digits.trim_end_matches('0').to_string()
}

pub(crate) fn timestamp(t: NaiveDateTime) -> String {
    format!(
        "{}{}",
        t.format("%Y-%m-%d %H:%M:%S"),
        fraction(t.nanosecond())
    )
}

pub(crate) fn time(t: NaiveTime) -> String {
    format!("{}{}", t.format("%H:%M:%S"), fraction(t.nanosecond()))
}

pub(crate) fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Text of a column, or its bytes when they are not UTF-8.
pub(crate) fn text_or_blob(bytes: &[u8]) -> Field {
    match std::str::from_utf8(bytes) {
        Ok(s) => Field::StringValue(s.to_string()),
        Err(_) => Field::BlobValue(crate::protocol::Blob(bytes.to_vec())),
    }
}

/// PostgreSQL's own name of a type from the driver's (`INT8` → `int8`, `POINT[]` → `_point`).
pub(crate) fn postgres_type_name(engine_type: &str) -> String {
    let lower = engine_type.to_ascii_lowercase();
    match lower.strip_suffix("[]") {
        Some(element) => format!("_{element}"),
        None => lower,
    }
}

/// Metadata of a result column from the engine's type name.
pub(crate) fn column_metadata(name: &str, engine_type: &str, dialect: Dialect) -> ColumnMetadata {
    let upper = engine_type.to_ascii_uppercase();
    let is_array = upper.ends_with("[]");
    let base = upper.trim_end_matches("[]");
    let type_code = jdbc_type(base);
    let type_name = match dialect {
        Dialect::Postgres => postgres_type_name(engine_type),
        _ => engine_type.to_string(),
    };
    ColumnMetadata {
        name: name.to_string(),
        label: name.to_string(),
        type_code: if is_array { 2003 } else { type_code },
        type_name,
        is_signed: matches!(type_code, -6 | 5 | 4 | -5 | 6 | 7 | 8 | 2 | 3)
            && !upper.contains("UNSIGNED"),
        is_case_sensitive: matches!(type_code, 1 | 12 | -1),
        // 2 = columnNullableUnknown: the endpoint does not look up column definitions.
        nullable: 2,
        array_base_column_type: if is_array { type_code } else { 0 },
        ..ColumnMetadata::default()
    }
}

/// `java.sql.Types` codes, which the service reports in `type`.
fn jdbc_type(upper: &str) -> i32 {
    let base = upper.split_whitespace().next().unwrap_or("");
    match base {
        "BOOL" | "BOOLEAN" => -7,
        "BIT" => -7,
        "TINYINT" => -6,
        "INT2" | "SMALLINT" | "YEAR" => 5,
        "INT4" | "INT" | "INTEGER" | "MEDIUMINT" | "SERIAL" | "OID" => 4,
        "INT8" | "BIGINT" | "BIGSERIAL" => -5,
        "FLOAT4" | "REAL" => 7,
        "FLOAT" => 7,
        "FLOAT8" | "DOUBLE" => 8,
        "NUMERIC" | "DECIMAL" | "MONEY" => 2,
        "CHAR" | "BPCHAR" => 1,
        "VARCHAR" | "NAME" | "TEXT" | "TINYTEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET"
        | "UUID" | "JSON" | "JSONB" | "CITEXT" => 12,
        "DATE" => 91,
        "TIME" | "TIMETZ" => 92,
        "TIMESTAMP" | "TIMESTAMPTZ" | "DATETIME" => 93,
        "BYTEA" | "BINARY" | "VARBINARY" | "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" => -2,
        "NULL" => 0,
        _ => 1111,
    }
}

fn array_json(a: &ArrayValue) -> serde_json::Value {
    match a {
        ArrayValue::BooleanValues(v) => serde_json::json!(v),
        ArrayValue::LongValues(v) => serde_json::json!(v),
        ArrayValue::DoubleValues(v) => serde_json::json!(v),
        ArrayValue::StringValues(v) => serde_json::json!(v),
        ArrayValue::ArrayValues(v) => v.iter().map(array_json).collect(),
    }
}

fn field_json(f: &Field) -> serde_json::Value {
    match f {
        Field::IsNull(_) => serde_json::Value::Null,
        Field::BooleanValue(b) => serde_json::json!(b),
        Field::LongValue(v) => serde_json::json!(v),
        Field::DoubleValue(v) => serde_json::json!(v),
        Field::StringValue(s) => serde_json::json!(s),
        Field::BlobValue(b) => serde_json::to_value(b).unwrap_or_default(),
        Field::ArrayValue(a) => array_json(a),
    }
}

/// `formatRecordsAs: JSON`: an array of objects keyed by column label, in column order. Two
/// columns of one label would be one key: the service refuses such a result (the JSON guide).
pub(crate) fn formatted_records(
    columns: &[ColumnMetadata],
    rows: &[Vec<Field>],
) -> Result<String, ApiError> {
    let mut labels = HashSet::new();
    if let Some(twice) = columns.iter().find(|c| !labels.insert(c.label.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "The result has more than one column named {}, and duplicate keys aren't allowed in JSON: give the columns unique labels with AS",
            twice.label
        )));
    }
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            let object: serde_json::Map<String, serde_json::Value> = columns
                .iter()
                .zip(row)
                .map(|(c, f)| (c.label.clone(), field_json(f)))
                .collect();
            serde_json::Value::Object(object)
        })
        .collect();
    Ok(serde_json::Value::Array(list).to_string())
}

fn array_size(a: &ArrayValue) -> usize {
    match a {
        ArrayValue::BooleanValues(v) => v.len(),
        ArrayValue::LongValues(v) => v.len() * 8,
        ArrayValue::DoubleValues(v) => v.len() * 8,
        ArrayValue::StringValues(v) => v.iter().flatten().map(String::len).sum(),
        ArrayValue::ArrayValues(v) => v.iter().map(array_size).sum(),
    }
}

/// Bytes a row takes as the database sends it, for the per-row limit.
pub(crate) fn row_size(row: &[Field]) -> usize {
    row.iter()
        .map(|f| match f {
            Field::IsNull(_) | Field::BooleanValue(_) => 1,
            Field::LongValue(_) | Field::DoubleValue(_) => 8,
            Field::StringValue(s) => s.len(),
            Field::BlobValue(b) => b.0.len(),
            Field::ArrayValue(a) => array_size(a),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_like_aurora() {
        let t = NaiveDate::from_ymd_opt(2024, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 120_000)
            .unwrap();
        assert_eq!(timestamp(t), "2024-01-02 03:04:05.12");
        assert_eq!(
            timestamp(t.with_nanosecond(0).unwrap()),
            "2024-01-02 03:04:05"
        );
        assert_eq!(time(t.time()), "03:04:05.12");
        assert_eq!(date(t.date()), "2024-01-02");
    }

    #[test]
    fn result_set_options_convert_numbers() {
        let o = ResultOptions {
            long_as_string: true,
            decimal_as_number: true,
        };
        assert_eq!(o.long(5), Field::StringValue("5".into()));
        assert_eq!(o.decimal("12".into()), Field::LongValue(12));
        assert_eq!(o.decimal("1.50".into()), Field::DoubleValue(1.5));
        let d = ResultOptions::default();
        assert_eq!(d.decimal("1.50".into()), Field::StringValue("1.50".into()));
        assert_eq!(
            d.unsigned(u64::MAX),
            Field::StringValue(u64::MAX.to_string())
        );
        let bad = ResultSetOptions {
            decimal_return_type: Some("FLOAT".into()),
            long_return_type: None,
        };
        assert!(ResultOptions::from_wire(Some(&bad)).is_err());
    }

    #[test]
    fn formatted_records_are_objects() {
        let cols = vec![
            column_metadata("a", "INT8", Dialect::Postgres),
            column_metadata("b", "TEXT", Dialect::Postgres),
        ];
        let rows = vec![vec![Field::LongValue(1), Field::IsNull(true)]];
        assert_eq!(
            formatted_records(&cols, &rows).unwrap(),
            r#"[{"a":1,"b":null}]"#
        );
        // Keys keep the column order; a second column of one label is refused, rows or not.
        let reversed = [cols[1].clone(), cols[0].clone()];
        let row = vec![Field::IsNull(true), Field::LongValue(1)];
        assert_eq!(
            formatted_records(&reversed, &[row]).unwrap(),
            r#"[{"b":null,"a":1}]"#
        );
        let twice = [cols[0].clone(), cols[0].clone()];
        assert!(matches!(
            formatted_records(&twice, &[]),
            Err(ApiError::BadRequest(m)) if m.contains("more than one column named a")
        ));
        assert_eq!(cols[0].type_name, "int8");
        assert_eq!(cols[0].type_code, -5);
    }
}
