//! Instance writes (create, put, package replacement), reads and deletes.
//! Each write builds its plan here and runs it through `write`, which
//! owns how a write runs on each dialect.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::sql::{Head, PACKAGES_PAGE};
use super::values::{long, micros, now, text, time, Row, Rows};
use super::write::{ec2_params, os_params, write_mode, WritePlan, Written};
use super::{Store, StoreError};
use crate::model::{
    distinct_packages, validate_packages, Instance, InstanceDetails, InstanceId, InstanceRecord,
    OsPlatform, Package, PackageSet, Source,
};
use crate::version::VersionScheme;

impl Store {
    /// Records a new instance with its packages; `AlreadyExists` if the id is recorded.
    pub async fn create_instance(&self, i: &Instance) -> Result<(), StoreError> {
        match self.write_instance(Head::Create, i).await? {
            Written::Skipped => Err(StoreError::AlreadyExists(i.id.clone())),
            _ => Ok(()),
        }
    }

    /// Creates or replaces an instance with its packages; true when created.
    pub async fn put_instance(&self, i: &Instance) -> Result<bool, StoreError> {
        Ok(self.write_instance(Head::Put, i).await? == Written::Created)
    }

    async fn write_instance(&self, head: Head, i: &Instance) -> Result<Written, StoreError> {
        validate_packages(&i.packages)?;
        let packages = distinct_packages(&i.packages);
        let at = now();
        let mut params = ec2_params(
            &i.id, &i.account, &i.region, i.state, &i.details, i.source, at,
        );
        params.push(text("mode", write_mode(head)));
        let release = i.os.as_ref().and_then(OsPlatform::release);
        let scheme = VersionScheme::detect(
            None,
            release.map(|r| r.scheme()),
            i.details.platform.as_deref(),
        );
        params.extend(os_params(i.os.as_ref(), Some(scheme)));
        let plan = WritePlan {
            head,
            id: &i.id,
            params,
            chunks: self.package_chunks(&packages, scheme),
            scheme,
            source: i.source,
            at,
            state: i.state,
        };
        self.write(&plan).await
    }

    /// Replaces the package set of a recorded instance (and sets its
    /// `inventory_captured_at`, and its OS when the set reports one) unless a
    /// newer capture is stored; true when written, false (nothing written)
    /// for an unknown instance or a stale capture. Versions get sort keys in
    /// the set's scheme; the history records the changes at the capture's time.
    pub async fn replace_packages(
        &self,
        id: &InstanceId,
        set: PackageSet<'_>,
        captured_at: DateTime<Utc>,
        source: Source,
    ) -> Result<bool, StoreError> {
        validate_packages(set.packages)?;
        let packages = distinct_packages(set.packages);
        let at = micros(captured_at);
        let mut params = vec![
            text("id", id.as_str()),
            time("captured_at", at),
            time("now", now()),
            text("source", source.as_str()),
        ];
        params.extend(os_params(set.os, Some(set.scheme)));
        let plan = WritePlan {
            head: Head::Replace,
            id,
            params,
            chunks: self.package_chunks(&packages, set.scheme),
            scheme: set.scheme,
            source,
            at,
            state: None,
        };
        Ok(self.write(&plan).await? != Written::Skipped)
    }

    /// The instance with its packages sorted by (name, version): 1 call.
    pub async fn get_instance(
        &self,
        id: &InstanceId,
    ) -> Result<Option<InstanceRecord>, StoreError> {
        match self
            .query("get", self.sql().get_instance, &[text("id", id.as_str())])
            .await
        {
            Ok(out) => read_instance(id, &out),
            Err(e) if e.is_result_too_large() => self.get_paged(id).await,
            Err(e) => Err(e),
        }
    }

    /// The fallback when the packages do not fit one response: the instance,
    /// then pages of packages by id. Not one snapshot: a concurrent write may
    /// show partly; it is only taken for package lists over ~1 MiB.
    async fn get_paged(&self, id: &InstanceId) -> Result<Option<InstanceRecord>, StoreError> {
        tracing::info!(instance = %id, "instance over the response limit: paged read");
        let sql = self.sql();
        let key = text("id", id.as_str());
        let out = self
            .query(
                "get.instance",
                sql.get_instance_row,
                std::slice::from_ref(&key),
            )
            .await?;
        let Some(row) = out.first() else {
            return Ok(None);
        };
        let mut packages = Vec::new();
        let mut after = 0;
        loop {
            let params = [
                key.clone(),
                long("after", after),
                long("limit", PACKAGES_PAGE),
            ];
            let page = self
                .query("get.packages", sql.get_packages_page, &params)
                .await?;
            for row in page.iter() {
                packages.push(package_from(&row)?);
                after = row.long("id")?;
            }
            if page.len() < PACKAGES_PAGE as usize {
                break;
            }
        }
        instance_from(id, &row, packages).map(Some)
    }

    /// Removes an instance and its package links; true when it existed.
    pub async fn delete_instance(&self, id: &InstanceId) -> Result<bool, StoreError> {
        let out = self
            .run(
                "delete",
                self.sql().delete_instance,
                &[text("id", id.as_str())],
            )
            .await?;
        Ok(out.number_of_records_updated() > 0)
    }
}

fn package_from(row: &Row<'_>) -> Result<Package, StoreError> {
    Ok(Package {
        name: row.str("name")?.to_owned(),
        version: row.str("version")?.to_owned(),
        publisher: row.opt_str("publisher")?.map(str::to_owned),
        architecture: row.opt_str("architecture")?.map(str::to_owned),
        source_name: row.opt_str("source_name")?.map(str::to_owned),
    })
}

/// Reads a chunk of `[name, version, publisher, architecture, source_name]`
/// arrays (an element may arrive as JSON text: MariaDB's JSON_ARRAYAGG quotes
/// nested JSON).
fn packages_from_json(chunk: &str) -> Result<Vec<Package>, StoreError> {
    let bad = |e: serde_json::Error| StoreError::UnexpectedResult(format!("packages: {e}"));
    let items: Vec<serde_json::Value> = serde_json::from_str(chunk).map_err(bad)?;
    items
        .into_iter()
        .map(|item| {
            let item = match item {
                serde_json::Value::String(text) => serde_json::from_str(&text).map_err(bad)?,
                other => other,
            };
            let (name, version, publisher, architecture, source_name): (
                String,
                String,
                Option<String>,
                Option<String>,
                Option<String>,
            ) = serde_json::from_value(item).map_err(bad)?;
            Ok(Package {
                name,
                version,
                publisher,
                architecture,
                source_name,
            })
        })
        .collect()
}

/// Builds the record from `get_instance`'s instance row (`part` 0) and
/// package rows (`part` 1).
fn read_instance(id: &InstanceId, out: &Rows) -> Result<Option<InstanceRecord>, StoreError> {
    let mut instance_row = None;
    let mut packages = Vec::new();
    for row in out.iter() {
        if row.long("part")? == 0 {
            instance_row = Some(row);
        } else {
            packages.extend(packages_from_json(row.str("packages")?)?);
        }
    }
    instance_row
        .map(|row| instance_from(id, &row, packages))
        .transpose()
}

/// The record from an instance row (the columns of the `ec2` table) and its packages.
fn instance_from(
    id: &InstanceId,
    row: &Row<'_>,
    mut packages: Vec<Package>,
) -> Result<InstanceRecord, StoreError> {
    packages.sort();
    let tags: BTreeMap<String, String> = serde_json::from_str(row.str("tags")?)
        .map_err(|e| StoreError::UnexpectedResult(format!("tags: {e}")))?;
    let instance = Instance {
        id: id.clone(),
        account: row.parsed("account")?,
        region: row.parsed("region")?,
        state: row.opt_parsed("state")?,
        details: InstanceDetails {
            instance_type: row.opt_str("instance_type")?.map(str::to_owned),
            image_id: row.opt_str("image_id")?.map(str::to_owned),
            platform: row.opt_str("platform")?.map(str::to_owned),
            launch_time: row.opt_time("launch_time")?,
            tags,
        },
        os: match (
            row.opt_str("platform_name")?,
            row.opt_str("platform_version")?,
        ) {
            (Some(name), Some(version)) => Some(OsPlatform {
                name: name.to_owned(),
                version: version.to_owned(),
            }),
            _ => None,
        },
        source: row.parsed("source")?,
        packages,
    };
    Ok(InstanceRecord {
        instance,
        os_release: row.opt_str("os_release")?.map(str::to_owned),
        version_scheme: row.opt_parsed("version_scheme")?,
        created: row.time("created")?,
        updated: row.time("updated")?,
        terminated: row.opt_time("terminated_at")?,
        last_event_time: row.opt_time("last_event_time")?,
        inventory_captured_at: row.opt_time("inventory_captured_at")?,
    })
}
