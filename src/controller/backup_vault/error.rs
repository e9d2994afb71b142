//! Why a BackupVault reconcile failed, what the user can do about it, whether
//! a retry can help, and which condition reason shows it.

use std::time::Duration;

use crate::controller::ReconcileError;
use crate::controller::providers;
use crate::provider::ProviderError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "spec.huaweiCloud is not set; Huawei Cloud is the only provider of BackupVaults today: add a huaweiCloud block"
    )]
    NoProviderBlock,

    #[error("{0}")]
    Config(#[from] providers::Error),

    #[error(
        "{} vaults named {name:?} carry this object's ownership tag ({}), so coffer cannot tell which is its own: \
         delete the extra vaults or remove their coffer-uid tag",
        ids.len(), ids.join(", ")
    )]
    AmbiguousAdoption { name: String, ids: Vec<String> },

    #[error("could not {operation}: {source}")]
    Provider {
        operation: &'static str,
        #[source]
        source: ProviderError,
    },

    #[error("could not {operation} in Kubernetes: {source}")]
    Kube {
        operation: &'static str,
        #[source]
        source: kube::Error,
    },

    /// Not a failure: kube-runtime's finalizer helper lets go of the object
    /// as soon as cleanup returns `Ok`, so waiting is an `Err`.
    #[error("vault {id} is being deleted; waiting until the provider no longer reports it")]
    Deleting { id: String },

    #[error("the object has no {0}; the API server always sets it")]
    MissingMetadata(&'static str),

    #[error("the finalizer could not be handled: {0}")]
    Finalizer(String),
}

impl Error {
    pub fn provider(operation: &'static str) -> impl FnOnce(ProviderError) -> Self {
        move |source| Self::Provider { operation, source }
    }

    pub fn kube(operation: &'static str) -> impl FnOnce(kube::Error) -> Self {
        move |source| Self::Kube { operation, source }
    }

    /// Unwraps the errors of kube-runtime's finalizer helper, which wraps ours.
    pub fn from_finalizer(error: kube::runtime::finalizer::Error<Error>) -> Self {
        use kube::runtime::finalizer::Error as F;
        match error {
            F::ApplyFailed(e) | F::CleanupFailed(e) => e,
            F::AddFinalizer(source) => Self::Kube {
                operation: "add the finalizer",
                source,
            },
            F::RemoveFinalizer(source) => Self::Kube {
                operation: "remove the finalizer",
                source,
            },
            other => Self::Finalizer(other.to_string()),
        }
    }

    /// The condition reason a user sees.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NoProviderBlock => "InvalidSpec",
            Self::Config(e) => e.reason(),
            Self::AmbiguousAdoption { .. } => "AmbiguousAdoption",
            Self::Provider { source, .. } => source.reason(),
            Self::Kube { .. } | Self::Finalizer(_) => "KubernetesError",
            Self::MissingMetadata(_) => "InvalidObject",
            Self::Deleting { .. } => "Deleting",
        }
    }

    /// Whether nothing coffer can see is wrong, only coffer's way to the
    /// vault: then `Ready` cannot vouch for the vault either.
    pub fn blinds(&self) -> bool {
        match self {
            Self::Config(_) | Self::AmbiguousAdoption { .. } => true,
            Self::Provider { source, .. } => matches!(source, ProviderError::Unauthorized { .. }),
            _ => false,
        }
    }
}

impl ReconcileError for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Config(e) => e.is_retryable(),
            // A vault that vanished between two calls is recreated by the next pass.
            Self::Provider { source, .. } => source.is_retryable() || source.is_not_found(),
            Self::Kube { .. } | Self::Finalizer(_) | Self::Deleting { .. } => true,
            Self::NoProviderBlock | Self::AmbiguousAdoption { .. } | Self::MissingMetadata(_) => {
                false
            }
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Provider { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    fn metric_label(&self) -> &'static str {
        match self {
            Self::NoProviderBlock => "invalid_spec",
            Self::Config(e) => e.metric_label(),
            Self::AmbiguousAdoption { .. } => "ambiguous_adoption",
            Self::Provider { source, .. } => source.metric_label(),
            Self::Kube { .. } | Self::Finalizer(_) => "kubernetes",
            Self::MissingMetadata(_) => "invalid_object",
            Self::Deleting { .. } => "deleting",
        }
    }

    fn is_waiting(&self) -> bool {
        matches!(self, Self::Deleting { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_errors_are_not_retried() {
        let invalid = Error::Provider {
            operation: "create the vault",
            source: ProviderError::Invalid {
                code: "BackupService.6101".into(),
                message: "bad size".into(),
            },
        };
        assert!(!invalid.is_retryable());
        assert!(
            !Error::AmbiguousAdoption {
                name: "v".into(),
                ids: vec!["a".into(), "b".into()]
            }
            .is_retryable()
        );
        assert!(!Error::NoProviderBlock.is_retryable());
    }

    #[test]
    fn throttling_is_retried_after_the_providers_delay() {
        let throttled = Error::Provider {
            operation: "read the vault",
            source: ProviderError::Throttled {
                code: "APIGW.0308".into(),
                message: "slow down".into(),
                retry_after: Some(Duration::from_secs(7)),
            },
        };
        assert!(throttled.is_retryable());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(throttled.reason(), "Throttled");
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = Error::AmbiguousAdoption {
            name: "team-a".into(),
            ids: vec!["v1".into(), "v2".into()],
        };
        let text = e.to_string();
        assert!(text.contains("2 vaults named \"team-a\""), "{text}");
        assert!(text.contains("v1, v2"), "{text}");
        assert!(text.contains("remove their coffer-uid tag"), "{text}");
    }
}
