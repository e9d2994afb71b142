//! Test fixtures: one managed object as the API server would hold it. The
//! engine needs some kind to run on; a BackupVault without a provider block
//! will do, since the engine never reads a kind's spec.

use crate::api::{BackupVault, BackupVaultSpec, ProviderConfigRef};

pub const UID: &str = "6f1d2c3b-0000-4000-8000-000000000001";

/// A BackupVault in namespace `team-a`, at generation 1.
pub fn object() -> BackupVault {
    let mut bv = BackupVault::new(
        "team-a",
        BackupVaultSpec {
            provider_config_ref: ProviderConfigRef::namespaced("cloud"),
            deletion_policy: Default::default(),
            management_policy: Default::default(),
            huawei_cloud: None,
            rackspace: None,
            commvault: None,
        },
    );
    bv.metadata.namespace = Some("team-a".into());
    bv.metadata.uid = Some(UID.into());
    bv.metadata.generation = Some(1);
    bv
}
