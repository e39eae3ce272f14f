//! Wire types of the RDS Data API (restJson1), named as the SDK serializers name them.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes sent as a base64 string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        BASE64
            .decode(text.as_bytes())
            .map(Blob)
            .map_err(|e| serde::de::Error::custom(format!("blobValue is not valid base64: {e}")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Field {
    IsNull(bool),
    BooleanValue(bool),
    LongValue(i64),
    DoubleValue(f64),
    StringValue(String),
    BlobValue(Blob),
    ArrayValue(ArrayValue),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(clippy::enum_variant_names)] // the wire's member names
pub(crate) enum ArrayValue {
    BooleanValues(Vec<Option<bool>>),
    LongValues(Vec<Option<i64>>),
    DoubleValues(Vec<Option<f64>>),
    StringValues(Vec<Option<String>>),
    ArrayValues(Vec<ArrayValue>),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SqlParameter {
    pub name: Option<String>,
    pub value: Option<Field>,
    pub type_hint: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResultSetOptions {
    pub decimal_return_type: Option<String>,
    pub long_return_type: Option<String>,
}

/// The members that say where a call runs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CallScope {
    pub resource_arn: String,
    pub secret_arn: Option<String>,
    pub database: Option<String>,
    /// Refused when given (see `Service::scoped`).
    pub schema: Option<String>,
    /// Absent from BeginTransaction's input.
    pub transaction_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecuteStatementRequest {
    #[serde(flatten)]
    pub scope: CallScope,
    pub sql: String,
    #[serde(default)]
    pub parameters: Vec<SqlParameter>,
    #[serde(default)]
    pub include_result_metadata: bool,
    #[allow(dead_code)] // accepted for compatibility; statements here never outlive the call
    pub continue_after_timeout: Option<bool>,
    pub result_set_options: Option<ResultSetOptions>,
    pub format_records_as: Option<String>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExecuteStatementResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Vec<Field>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column_metadata: Option<Vec<ColumnMetadata>>,
    pub number_of_records_updated: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_fields: Option<Vec<Field>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted_records: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ColumnMetadata {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub type_code: i32,
    pub type_name: String,
    pub schema_name: String,
    pub table_name: String,
    pub is_auto_increment: bool,
    pub is_signed: bool,
    pub is_currency: bool,
    pub is_case_sensitive: bool,
    pub nullable: i32,
    pub precision: i32,
    pub scale: i32,
    pub array_base_column_type: i32,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchExecuteStatementRequest {
    #[serde(flatten)]
    pub scope: CallScope,
    pub sql: String,
    #[serde(default)]
    pub parameter_sets: Vec<Vec<SqlParameter>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchExecuteStatementResponse {
    pub update_results: Vec<UpdateResult>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UpdateResult {
    pub generated_fields: Vec<Field>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BeginTransactionResponse {
    pub transaction_id: String,
}

/// Input of both CommitTransaction and RollbackTransaction.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EndTransactionRequest {
    pub resource_arn: String,
    pub secret_arn: Option<String>,
    pub transaction_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EndTransactionResponse {
    pub transaction_status: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_use_the_sdk_member_names() {
        let json = serde_json::to_string(&vec![
            Field::IsNull(true),
            Field::LongValue(7),
            Field::BlobValue(Blob(vec![1, 2, 3])),
            Field::ArrayValue(ArrayValue::StringValues(vec![Some("a".into()), None])),
        ])
        .unwrap();
        assert_eq!(
            json,
            r#"[{"isNull":true},{"longValue":7},{"blobValue":"AQID"},{"arrayValue":{"stringValues":["a",null]}}]"#
        );
        let back: Vec<Field> = serde_json::from_str(&json).unwrap();
        assert_eq!(back[2], Field::BlobValue(Blob(vec![1, 2, 3])));
    }

    #[test]
    fn bad_base64_is_rejected() {
        assert!(serde_json::from_str::<Field>(r#"{"blobValue":"!!"}"#).is_err());
    }
}
