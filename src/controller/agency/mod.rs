//! The Agency controller: the kind as the reconcile engine sees it, and
//! the dispatch to its (kind, cloud) pair. Today one pair, an IAM agency on
//! Huawei Cloud (`huawei/`).

pub mod huawei;

mod reasons;

use std::sync::Arc;

use kube::runtime::controller::Action;

use super::engine::{self, Error, Managed};
use super::env::Context;
use crate::api::agency::AgencyObservation;
use crate::api::conditions::Reason;
use crate::api::managed::ManagementPolicy;
use crate::api::{Agency, AgencyStatus, DeletionPolicy, ProviderConfigRef};

/// The kind, as metrics and per-object state name it.
pub const KIND: &str = "Agency";
/// Held while the agency may still exist at the provider.
pub const FINALIZER: &str = "coffer.dev/agency";

impl Managed for Agency {
    const KIND: &'static str = KIND;
    const FINALIZER: &'static str = FINALIZER;
    const NOUN: &'static str = "agency";
    const MISSING_REASON: &'static str = "AgencyMissing";
    const REASONS: &'static [Reason] = reasons::REASONS;
    type AtProvider = AgencyObservation;

    fn provider_config_ref(&self) -> &ProviderConfigRef {
        &self.spec.provider_config_ref
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.spec.deletion_policy
    }

    fn management_policy(&self) -> ManagementPolicy {
        self.spec.management_policy
    }

    fn managed_status(&self) -> Option<&AgencyStatus> {
        self.status.as_ref()
    }
}

/// Reconciles one Agency through the pair its provider block names.
pub async fn reconcile(agency: Arc<Agency>, ctx: Arc<Context>) -> Result<Action, Error> {
    engine::reconcile::<huawei::IamAgency>(agency, ctx).await
}
