//! What the HTTP API does with one instance (`/ec2/{id}`): a record its
//! caller describes (a backfill) is created, replaced, read or removed. The
//! events' use cases are in the parent module.

use crate::model::{
    Account, Instance, InstanceDetails, InstanceId, InstanceRecord, OsPlatform, Package, Region,
    Source,
};
use crate::store::{Store, StoreError};

/// An instance as an API caller describes it: no state and no EC2 details,
/// the packages as given, duplicates included (the store keeps each once),
/// and the OS a PUT may name.
pub fn described(
    id: InstanceId,
    account: Account,
    region: Region,
    packages: Vec<Package>,
    os: Option<OsPlatform>,
) -> Instance {
    Instance {
        id,
        account,
        region,
        state: None,
        details: InstanceDetails::default(),
        os,
        source: Source::Api,
        packages,
    }
}

/// Records a new instance; an id already recorded is
/// [`StoreError::AlreadyExists`] and leaves the record as it was.
pub async fn create(store: &Store, instance: &Instance) -> Result<(), StoreError> {
    store.create_instance(instance).await
}

/// What a create-or-replace did, and the record as a read now shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Replaced {
    pub created: bool,
    pub record: Option<InstanceRecord>,
}

/// Creates or replaces the whole record, then reads it back (one more call)
/// so that the answer is exactly what a later read shows.
pub async fn put(store: &Store, instance: &Instance) -> Result<Replaced, StoreError> {
    let created = store.put_instance(instance).await?;
    let record = store.get_instance(&instance.id).await?;
    Ok(Replaced { created, record })
}

/// The record with its packages, if the instance is recorded.
pub async fn get(store: &Store, id: &InstanceId) -> Result<Option<InstanceRecord>, StoreError> {
    store.get_instance(id).await
}

/// Removes the instance and its package links; false when it was not recorded.
pub async fn delete(store: &Store, id: &InstanceId) -> Result<bool, StoreError> {
    store.delete_instance(id).await
}
