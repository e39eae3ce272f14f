//! Percent-decoding of path segments and query strings, and the search query.

use super::errors::ApiError;
use crate::model::{
    check_storable, Account, InstanceState, Region, ValidationError, MAX_PACKAGE_NAME_LEN,
    MAX_PACKAGE_VERSION_LEN,
};
use crate::query::{parse_search_limit, SearchQuery};

/// The query parameters `GET /ec2` accepts.
pub const SEARCH_PARAMS: [&str; 7] = [
    "package_name",
    "package_version",
    "aws_account",
    "aws_region",
    "state",
    "limit",
    "next_token",
];

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in query
/// strings) into UTF-8. `what` names the input in the error message.
pub fn percent_decode(raw: &str, plus_is_space: bool, what: &str) -> Result<String, ApiError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|pair| {
                    let pair = std::str::from_utf8(pair).ok()?;
                    u8::from_str_radix(pair, 16).ok()
                });
                let byte = hex.ok_or_else(|| {
                    ApiError::BadRequest(format!("{what}: malformed percent-encoding"))
                })?;
                out.push(byte);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::BadRequest(format!("{what}: not valid UTF-8 once decoded")))
}

/// Splits `a=1&b=2` into decoded pairs; a key without `=` has an empty value.
/// A key given twice is an error: which of the values would win is ambiguous.
pub fn parse_query(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let key = percent_decode(key, true, "query parameter name")?;
        let value = percent_decode(value, true, &key)?;
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(ApiError::BadRequest(format!("{key}: given more than once")));
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Builds the store's search from `GET /ec2`'s query string.
pub fn search_query(raw: Option<&str>) -> Result<SearchQuery, ApiError> {
    let mut q = SearchQuery::default();
    for (key, value) in parse_query(raw)? {
        match key.as_str() {
            "package_name" => q.package_name = Some(package_name(&value)?),
            // May be empty: SSM reports some packages without a version.
            "package_version" => q.package_version = Some(package_version(&value)?),
            "aws_account" => q.account = Some(Account::parse(&value)?),
            "aws_region" => q.region = Some(Region::parse(&value)?),
            "state" => q.state = Some(value.parse::<InstanceState>()?),
            "limit" => q.limit = parse_search_limit(&value)?,
            "next_token" => q.next_token = Some(value),
            _ => {
                let shown: String = key.chars().take(64).collect();
                return Err(ValidationError::new(
                    shown,
                    format!(
                        "unknown query parameter; expected {}",
                        SEARCH_PARAMS.join(", ")
                    ),
                )
                .into());
            }
        }
    }
    q.validate()?;
    Ok(q)
}

/// A package name from a path or query: 1 to 255 characters.
pub fn package_name(name: &str) -> Result<String, ValidationError> {
    check_storable("package_name", name)?;
    let chars = name.chars().count();
    if (1..=MAX_PACKAGE_NAME_LEN).contains(&chars) {
        Ok(name.to_owned())
    } else {
        Err(ValidationError::new(
            "package_name",
            format!("must be 1 to {MAX_PACKAGE_NAME_LEN} characters"),
        ))
    }
}

/// A package version from a query: at most 128 characters, maybe empty.
fn package_version(version: &str) -> Result<String, ValidationError> {
    check_storable("package_version", version)?;
    if version.chars().count() > MAX_PACKAGE_VERSION_LEN {
        return Err(ValidationError::new(
            "package_version",
            format!("must be at most {MAX_PACKAGE_VERSION_LEN} characters"),
        ));
    }
    Ok(version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(raw: &str) -> String {
        match search_query(Some(raw)).unwrap_err() {
            ApiError::Validation(v) => v.field,
            other => panic!("{raw}: not a validation error: {other}"),
        }
    }

    #[test]
    fn builds_search_queries() {
        let q = search_query(Some(
            "package_name=open+ssl&package_version=&aws_account=123456789012\
             &aws_region=eu-west-1&state=shutting-down&limit=7&next_token=abc",
        ))
        .unwrap();
        assert_eq!(q.package_name.as_deref(), Some("open ssl"));
        assert_eq!(q.package_version.as_deref(), Some(""));
        assert_eq!(q.account.unwrap().as_str(), "123456789012");
        assert_eq!(q.region.unwrap().as_str(), "eu-west-1");
        assert_eq!(q.state, Some(InstanceState::ShuttingDown));
        assert_eq!((q.limit, q.next_token.as_deref()), (7, Some("abc")));
        assert_eq!(search_query(None).unwrap(), SearchQuery::default());
    }

    #[test]
    fn search_errors_name_the_parameter() {
        for (raw, field) in [
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("limit=-1", "limit"),
            ("limit=ten", "limit"),
            ("package_version=1", "package_version"),
            ("package_name=", "package_name"),
            ("aws_account=1", "aws_account"),
            ("aws_region=moon", "aws_region"),
            ("state=rebooting", "state"),
            ("colour=red", "colour"),
            ("package_name=a%00b", "package_name"),
            ("package_name=a&package_version=%00", "package_version"),
        ] {
            assert_eq!(field_of(raw), field, "{raw}");
        }
        assert!(search_query(Some("limit=1000")).is_ok());
    }

    #[test]
    fn decodes_escapes_and_unicode() {
        assert_eq!(percent_decode("a%2Fb%3Ac", false, "x").unwrap(), "a/b:c");
        assert_eq!(percent_decode("caf%C3%A9+1", false, "x").unwrap(), "café+1");
        assert_eq!(percent_decode("caf%C3%A9+1", true, "x").unwrap(), "café 1");
        assert_eq!(percent_decode("%e2%9c%93", false, "x").unwrap(), "✓");
    }

    #[test]
    fn rejects_bad_escapes() {
        for bad in ["%", "%2", "%zz", "a%C3", "%FF", "%2é"] {
            let err = percent_decode(bad, false, "segment").unwrap_err();
            assert!(err.to_string().starts_with("segment: "), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_queries() {
        let pairs = parse_query(Some("a=1&&b=x+y%26z&c")).unwrap();
        let expect = [("a", "1"), ("b", "x y&z"), ("c", "")];
        assert_eq!(pairs.len(), expect.len());
        for ((k, v), (ek, ev)) in pairs.iter().zip(expect) {
            assert_eq!((k.as_str(), v.as_str()), (ek, ev));
        }
        assert!(parse_query(None).unwrap().is_empty());
        let err = parse_query(Some("a=1&a=2")).unwrap_err();
        assert_eq!(err.to_string(), "a: given more than once");
    }
}
