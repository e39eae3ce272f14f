//! Search with keyset pagination on the instance id, and package versions.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::values::{long, opt_text, text};
use super::{Store, StoreError};
use crate::model::{InstanceId, InstanceKey};
use crate::query::{InstanceSummary, PackageVersionCount, SearchPage, SearchQuery};
use crate::version::VersionScheme;

/// The opaque token: the last id of a page, base64url.
fn encode_token(last: &InstanceId) -> String {
    URL_SAFE_NO_PAD.encode(last.as_str())
}

fn decode_token(token: &str) -> Result<InstanceId, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| StoreError::InvalidNextToken)?;
    let id = String::from_utf8(bytes).map_err(|_| StoreError::InvalidNextToken)?;
    InstanceId::parse(&id).map_err(|_| StoreError::InvalidNextToken)
}

impl Store {
    /// Instances matching every filter of `q`, by id, a page at a time.
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage, StoreError> {
        q.validate()?;
        let after = q.next_token.as_deref().map(decode_token).transpose()?;
        let mut params = vec![
            opt_text("account", q.account.as_ref().map(|a| a.as_str())),
            opt_text("region", q.region.as_ref().map(|r| r.as_str())),
            opt_text("state", q.state.map(|st| st.as_str())),
            opt_text("after", after.as_ref().map(|a| a.as_str())),
            long("limit", i64::from(q.limit) + 1),
            opt_text("package_name", q.package_name.as_deref()),
            opt_text("package_version", q.package_version.as_deref()),
            long("ranged", i64::from(!q.version_range.is_empty_filter())),
        ];
        // The range as one key interval per scheme: a package's key starts
        // with its scheme's tag, so only its own interval can hold it.
        for scheme in VersionScheme::ALL {
            let (from, to) = q.version_range.key_interval(scheme);
            params.push(text(&format!("{}_from", scheme.as_str()), from));
            params.push(text(&format!("{}_to", scheme.as_str()), to));
        }
        let sql = self.sql().search;
        let out = self.query("search", sql, &params).await?;
        let mut instances = out
            .iter()
            .map(|row| {
                let InstanceKey {
                    id,
                    account,
                    region,
                } = row.key()?;
                Ok(InstanceSummary {
                    id,
                    account,
                    region,
                    state: row.opt_parsed("state")?,
                    instance_type: row.opt_str("instance_type")?.map(str::to_owned),
                    updated: row.time("updated")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let more = instances.len() > q.limit as usize;
        instances.truncate(q.limit as usize);
        let next_token = more
            .then(|| instances.last().map(|i| encode_token(&i.id)))
            .flatten();
        Ok(SearchPage {
            instances,
            next_token,
        })
    }

    /// Versions of a package across the fleet with their instance counts,
    /// highest first in each version's own order (by scheme name, then sort
    /// key descending); versions no instance has are left out.
    pub async fn package_versions(
        &self,
        name: &str,
    ) -> Result<Vec<PackageVersionCount>, StoreError> {
        let out = self
            .query(
                "package_versions",
                self.sql().package_versions,
                &[text("name", name)],
            )
            .await?;
        // Exact name match in Rust: the same on every dialect (MySQL's
        // collation ignores trailing spaces, so `"a "` groups with `"a"`).
        let mut versions = Vec::new();
        for row in out.iter() {
            if row.str("name")? == name {
                versions.push(PackageVersionCount {
                    version: row.str("version")?.to_owned(),
                    scheme: row.parsed("scheme")?,
                    instances: u64::try_from(row.long("instances")?).unwrap_or(0),
                });
            }
        }
        Ok(versions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let id = InstanceId::parse("i-0abc:x.y_z").unwrap();
        assert_eq!(decode_token(&encode_token(&id)).unwrap(), id);
        for bad in ["%%%", "", "aGVsbG8gd29ybGQ", "_w"] {
            assert!(
                matches!(decode_token(bad), Err(StoreError::InvalidNextToken)),
                "{bad}"
            );
        }
    }
}
