//! The ProviderConfig controller: reads the Secret from the cache, checks
//! that it has every key the credential type needs, builds (or reuses) the
//! provider client, and makes one cheap authenticated call — once per change
//! of the ProviderConfig or its Secret, and at each drift check. `Ready`
//! names the problem; status is written only when it changes.

pub mod report;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use super::context::{Context, ReconcileError};
use super::providers;
use super::status;
use crate::api::ProviderConfig;
use crate::provider::ProviderError;

/// The kind, as metrics and per-object state name it.
pub const KIND: &str = "ProviderConfig";

/// Why checking a ProviderConfig failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] providers::Error),

    #[error("checking the credentials failed: {0}")]
    Provider(#[source] ProviderError),

    #[error("could not write the status: {0}")]
    Status(#[source] kube::Error),

    #[error("the object has no namespace; ProviderConfigs are namespaced")]
    NotNamespaced,
}

impl Error {
    /// The `Ready` reason a user sees.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Config(e) => e.reason(),
            Self::Provider(e) => e.reason(),
            Self::Status(_) => "KubernetesError",
            Self::NotNamespaced => "InvalidObject",
        }
    }

    /// Whether the problem is the configuration itself, so `Ready` must say
    /// False even if it was True before; a provider hiccup is not.
    pub fn is_config_problem(&self) -> bool {
        match self {
            Self::Config(_) | Self::NotNamespaced => true,
            Self::Provider(e) => !e.is_retryable(),
            Self::Status(_) => false,
        }
    }
}

impl ReconcileError for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Config(e) => e.is_retryable(),
            Self::Provider(e) => e.is_retryable(),
            Self::Status(_) => true,
            Self::NotNamespaced => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Provider(e) => e.retry_after(),
            _ => None,
        }
    }

    fn metric_label(&self) -> &'static str {
        match self {
            Self::Config(e) => e.metric_label(),
            Self::Provider(e) => e.metric_label(),
            Self::Status(_) => "kubernetes",
            Self::NotNamespaced => "invalid_object",
        }
    }
}

/// Reconciles one ProviderConfig.
pub async fn reconcile(pc: Arc<ProviderConfig>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.start(KIND);
    let result = check_and_report(&pc, &ctx).await;
    ctx.finish(KIND, pc.as_ref(), &result);
    result
}

/// When to look at a ProviderConfig again after a failed check.
pub fn error_policy(pc: Arc<ProviderConfig>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.retry(KIND, pc.as_ref(), error)
}

async fn check_and_report(pc: &ProviderConfig, ctx: &Context) -> Result<Action, Error> {
    let namespace = pc.namespace().ok_or(Error::NotNamespaced)?;
    let checked = check(pc, ctx).await;
    let current = pc.status.clone().unwrap_or_default();
    let desired = report::status(
        &current,
        pc.meta().generation,
        checked.as_ref().err(),
        Timestamp::now(),
    );
    let notes = report::transition_notes(&current.conditions, &desired.conditions);
    let api: Api<ProviderConfig> = Api::namespaced(ctx.client.clone(), &namespace);
    let written = status::write_if_changed(&api, pc, Some(&current), &desired)
        .await
        .map_err(Error::Status);
    for note in notes {
        ctx.events.publish(&pc.object_ref(&()), note).await;
    }
    checked?;
    written?;
    Ok(ctx.resync())
}

/// Builds the client from the cached Secret and asks the provider whether it
/// accepts the credentials.
async fn check(pc: &ProviderConfig, ctx: &Context) -> Result<(), Error> {
    let session = ctx.providers.session_for(&ctx.caches, pc)?;
    session.check_credentials().await.map_err(Error::Provider)
}
