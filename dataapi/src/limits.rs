//! The service's documented limits, enforced with the errors it gives.

use crate::errors::ApiError;

/// Maximum length of the `sql` text (API reference: 65,536 characters).
pub const MAX_SQL_CHARS: usize = 65_536;
/// Maximum response size (Aurora user guide: 1 MiB).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Maximum size of one row of a result set (Aurora user guide: 64 KB).
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// Maximum request body accepted by this endpoint (ours; the guide names none): 4 MiB.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

pub(crate) fn check_sql(sql: &str) -> Result<(), ApiError> {
    if sql.trim().is_empty() {
        return Err(ApiError::BadRequest("SQL statement is empty".into()));
    }
    let chars = sql.chars().count();
    if chars > MAX_SQL_CHARS {
        return Err(ApiError::BadRequest(format!(
            "SQL statement length {chars} exceeds the maximum of {MAX_SQL_CHARS} characters"
        )));
    }
    Ok(())
}

pub(crate) fn check_response(bytes: usize) -> Result<(), ApiError> {
    if bytes > MAX_RESPONSE_BYTES {
        return Err(ApiError::BadRequest(
            "Database returned more than the allowed response size limit".into(),
        ));
    }
    Ok(())
}

pub(crate) fn check_row(bytes: usize) -> Result<(), ApiError> {
    if bytes > MAX_ROW_BYTES {
        return Err(ApiError::BadRequest(format!(
            "Row size {bytes} bytes exceeds the limit of {MAX_ROW_BYTES} bytes per row"
        )));
    }
    Ok(())
}

pub(crate) fn request_too_large() -> ApiError {
    ApiError::BadRequest(format!(
        "Request body exceeds the maximum size of {MAX_REQUEST_BYTES} bytes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_length_is_counted_in_characters() {
        assert!(check_sql(&"é".repeat(MAX_SQL_CHARS)).is_ok());
        assert!(check_sql(&"a".repeat(MAX_SQL_CHARS + 1)).is_err());
        assert!(check_sql("  ").is_err());
    }

    #[test]
    fn sizes_at_the_limit_pass() {
        assert!(check_response(MAX_RESPONSE_BYTES).is_ok());
        assert!(check_response(MAX_RESPONSE_BYTES + 1).is_err());
        assert!(check_row(MAX_ROW_BYTES).is_ok());
        assert!(check_row(MAX_ROW_BYTES + 1).is_err());
    }
}
