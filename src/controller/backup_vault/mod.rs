//! The BackupVault controller: the kind as the reconcile engine sees it,
//! and the dispatch to its (kind, cloud) pair: a CBR vault on Huawei Cloud
//! (`huawei/`), an S3 vault on Commvault (`commvault/`) or an agent vault
//! on Rackspace Cloud Backup (`rackspace/`); every pair runs on the same
//! engine.

pub mod commvault;
pub mod huawei;
pub mod rackspace;

#[cfg(test)]
pub(crate) mod fixtures;

mod reasons;

use std::sync::Arc;

use kube::runtime::controller::Action;

use super::engine::{self, Error, Managed};
use super::env::Context;
use crate::api::conditions::Reason;
use crate::api::managed::ManagementPolicy;
use crate::api::{BackupVault, BackupVaultStatus, DeletionPolicy, ProviderConfigRef};

/// The kind, as metrics and per-object state name it.
pub const KIND: &str = "BackupVault";
/// Held while the vault may still exist at the provider.
pub const FINALIZER: &str = "coffer.dev/backup-vault";

impl Managed for BackupVault {
    const KIND: &'static str = KIND;
    const FINALIZER: &'static str = FINALIZER;
    const NOUN: &'static str = "vault";
    const MISSING_REASON: &'static str = "VaultMissing";
    const REASONS: &'static [Reason] = reasons::REASONS;
    type AtProvider = crate::api::backup_vault::VaultObservation;

    fn provider_config_ref(&self) -> &ProviderConfigRef {
        &self.spec.provider_config_ref
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }

    fn managed_status(&self) -> Option<&BackupVaultStatus> {
        self.status.as_ref()
    }

    fn referenced_secrets(&self) -> Vec<&str> {
        let passphrase = self
            .spec
            .rackspace
            .as_ref()
            .and_then(|r| r.encryption.as_ref());
        passphrase
            .map(|e| e.passphrase_secret_ref.name.as_str())
            .into_iter()
            .collect()
    }
}

/// Reconciles one BackupVault through the pair its provider block names.
pub async fn reconcile(bv: Arc<BackupVault>, ctx: Arc<Context>) -> Result<Action, Error> {
    // Admission lets exactly one provider block through; an object without
    // one is reported by the Huawei pair's connect.
    match (&bv.spec.commvault, &bv.spec.rackspace) {
        (Some(_), _) => engine::reconcile::<commvault::CommvaultS3Vault>(bv, ctx).await,
        (None, Some(_)) => engine::reconcile::<rackspace::AgentVault>(bv, ctx).await,
        (None, None) => engine::reconcile::<huawei::CbrVault>(bv, ctx).await,
    }
}
