//! Why checking a ProviderConfig failed, the reason `Ready` shows, and
//! whether a retry can help.

use std::time::Duration;

use super::credentials;
use crate::controller::engine::finalizing::FinalizerFailure;
use crate::controller::engine::{self, ReconcileError};
use crate::controller::providers;
use crate::provider::ProviderError;

/// Why checking a ProviderConfig failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] providers::Error),

    #[error("checking the credentials failed: {0}")]
    Provider(#[source] ProviderError),

    #[error("could not write the status: {0}")]
    Status(#[source] kube::Error),

    /// Not a failure: deletion waits for the users to be gone.
    #[error("still used by {users}; it is deleted once they are gone")]
    InUse { users: String },

    #[error("the finalizer could not be handled: {0}")]
    Finalizer(String),

    #[error("{0}")]
    Credentials(#[from] credentials::HoldError),

    /// The credentials check outlasted the reconcile deadline.
    #[error(
        "checking the credentials did not finish within {}s (coffer run --reconcile-deadline): \
         the endpoint is answering slowly or not at all; check spec.endpoints. coffer retries",
        after.as_secs_f64()
    )]
    DeadlineExceeded { after: Duration },
}

impl Error {
    /// The `Ready` reason a user sees.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Config(e) => e.reason(),
            Self::Provider(e) => e.reason(),
            Self::Status(_) | Self::Finalizer(_) | Self::Credentials(_) => "KubernetesError",
            Self::InUse { .. } => "InUse",
            Self::DeadlineExceeded { .. } => engine::error::DEADLINE_EXCEEDED,
        }
    }

    /// Whether the problem is the configuration itself, so `Ready` must say
    /// False even if it was True before; a provider hiccup is not.
    pub fn is_config_problem(&self) -> bool {
        match self {
            Self::Config(_) => true,
            Self::Provider(e) => !e.is_retryable(),
            Self::Status(_)
            | Self::Finalizer(_)
            | Self::InUse { .. }
            | Self::Credentials(_)
            | Self::DeadlineExceeded { .. } => false,
        }
    }
}

impl FinalizerFailure for Error {
    fn kube(operation: &'static str, source: kube::Error) -> Self {
        Self::Finalizer(format!("could not {operation}: {source}"))
    }

    fn other(message: String) -> Self {
        Self::Finalizer(message)
    }
}

impl ReconcileError for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Config(e) => e.is_retryable(),
            Self::Provider(e) => e.is_retryable(),
            Self::Status(_)
            | Self::Finalizer(_)
            | Self::InUse { .. }
            | Self::Credentials(_)
            | Self::DeadlineExceeded { .. } => true,
        }
    }

    fn is_waiting(&self) -> bool {
        matches!(self, Self::InUse { .. })
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
            Self::Status(_) | Self::Finalizer(_) | Self::Credentials(_) => "kubernetes",
            Self::InUse { .. } => "in_use",
            Self::DeadlineExceeded { .. } => "deadline_exceeded",
        }
    }
}
