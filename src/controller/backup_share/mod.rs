//! The BackupShare controller: the kind as the reconcile engine sees it,
//! and the dispatch to the pair of its side — the owner's member set, or
//! the receiver's own member record — both on Huawei Cloud CBR (`huawei/`).

pub mod huawei;

mod reasons;

use std::sync::Arc;

use kube::runtime::controller::Action;

use super::engine::{self, Error, Managed};
use super::env::Context;
use crate::api::backup_share::ShareObservation;
use crate::api::conditions::Reason;
use crate::api::managed::ManagementPolicy;
use crate::api::{BackupShare, BackupShareStatus, DeletionPolicy, ProviderConfigRef};

/// The kind, as metrics and per-object state name it.
pub const KIND: &str = "BackupShare";
/// Held while coffer's members may still be shared.
pub const FINALIZER: &str = "coffer.dev/backup-share";

impl Managed for BackupShare {
    const KIND: &'static str = KIND;
    const FINALIZER: &'static str = FINALIZER;
    const NOUN: &'static str = "share";
    const MISSING_REASON: &'static str = "ShareMissing";
    const REASONS: &'static [Reason] = reasons::REASONS;
    type AtProvider = ShareObservation;

    fn provider_config_ref(&self) -> &ProviderConfigRef {
        &self.spec.provider_config_ref
    }

    /// A receiver never changes CBR when it is deleted: rejecting on
    /// deletion would undo a decision someone may rely on, and CBR has no
    /// way to give an accepted backup back. So it always lets go.
    fn deletion_policy(&self) -> DeletionPolicy {
        match self.spec.receiver {
            Some(_) => DeletionPolicy::Orphan,
            None => self.spec.deletion_policy,
        }
    }

    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }

    fn managed_status(&self) -> Option<&BackupShareStatus> {
        self.status.as_ref()
    }

    /// A receiver's change (its answer, in its status) is news for the
    /// owner's share of the same backup, when both are in this cluster.
    fn wakes(&self) -> Option<String> {
        self.spec.receiver.as_ref().map(|r| r.backup_id.clone())
    }

    fn woken_by(&self, backup_id: &str) -> bool {
        self.spec
            .owner
            .as_ref()
            .is_some_and(|o| o.backup_id == backup_id)
    }
}

/// Reconciles one BackupShare through the pair of its side. An object
/// with neither side (admission refuses it) is reported by the owner
/// pair's connect.
pub async fn reconcile(share: Arc<BackupShare>, ctx: Arc<Context>) -> Result<Action, Error> {
    match share.spec.receiver {
        Some(_) => engine::reconcile::<huawei::ReceiverShare>(share, ctx).await,
        None => engine::reconcile::<huawei::OwnerShare>(share, ctx).await,
    }
}
