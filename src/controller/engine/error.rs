//! Why a reconcile failed, what the user can do about it, whether a retry
//! can help, and which condition reason shows it. One enum for every
//! (kind, cloud) pair: a pair reports provider failures as
//! [`ProviderError`] and spec problems as [`Error::InvalidSpec`].

use std::time::Duration;

use super::context::ReconcileError;
use super::finalizing::FinalizerFailure;
use crate::api::managed::{EXTERNAL_ID_ANNOTATION, RETRY_CREATE_ANNOTATION};
use crate::provider::ProviderError;

/// Why the object's provider session could not be had: its ProviderConfig,
/// Secret or CA bundle. The engine shows it and retries it as the
/// session's owner says; it never needs to know which it was.
pub trait ConfigProblem: std::error::Error + Send + Sync + 'static {
    /// The condition reason a user sees.
    fn reason(&self) -> &'static str;
    /// A metrics label from a bounded set.
    fn metric_label(&self) -> &'static str;
    /// Whether the same attempt may succeed later without a change in the cluster.
    fn is_retryable(&self) -> bool;
}

/// The condition reason of a reconcile that ran past its deadline.
pub const DEADLINE_EXCEEDED: &str = "ReconcileDeadlineExceeded";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec cannot be acted on as it is (admission stops most of these).
    #[error("{message}")]
    InvalidSpec {
        reason: &'static str,
        message: String,
    },

    #[error("{0}")]
    Config(Box<dyn ConfigProblem>),

    #[error(
        "{} {noun}s named {name:?} carry this object's ownership tag ({}), so coffer cannot tell which is its own: \
         delete the extra {noun}s or remove their coffer-uid tag",
        ids.len(), ids.join(", ")
    )]
    AmbiguousAdoption {
        noun: &'static str,
        name: String,
        ids: Vec<String>,
    },

    #[error(
        "a {noun} named {name:?} already exists ({id}) and nothing shows that coffer created it, so coffer will not take it over: \
         to manage it, set annotation {EXTERNAL_ID_ANNOTATION}={id} with managementPolicy ObserveOnly, check status.drift, then set managementPolicy Full; \
         or choose another name"
    )]
    AdoptionRefused {
        noun: &'static str,
        name: String,
        id: String,
    },

    #[error(
        "coffer started creating the {noun} at {since} but never learned its id, and the provider cannot be searched for it: \
         if the {noun} exists, set annotation {EXTERNAL_ID_ANNOTATION} to its id; \
         if it does not, set annotation {RETRY_CREATE_ANNOTATION}={since} to create it again"
    )]
    CreateOutcomeUnknown { noun: &'static str, since: String },

    #[error("could not {operation}: {source}")]
    Provider {
        operation: String,
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
    #[error("{noun} {id} is being deleted; waiting until the provider no longer reports it")]
    Deleting { noun: &'static str, id: String },

    /// Not a failure either: a paused object keeps its finalizer.
    #[error("reconciling is paused by annotation coffer.dev/paused; remove it to resume")]
    Paused,

    /// The reconcile ran past its deadline (`--reconcile-deadline`): the
    /// provider answered too slowly, or not at all, across its calls.
    #[error(
        "the reconcile did not finish within its deadline of {}s (coffer run --reconcile-deadline): \
         the provider is answering slowly or not at all; check the ProviderConfig's endpoint. coffer retries",
        after.as_secs_f64()
    )]
    DeadlineExceeded { after: Duration },

    #[error("the object has no {0}; the API server always sets it")]
    MissingMetadata(&'static str),

    #[error("the finalizer could not be handled: {0}")]
    Finalizer(String),
}

impl Error {
    pub fn provider(operation: impl Into<String>) -> impl FnOnce(ProviderError) -> Self {
        let operation = operation.into();
        move |source| Self::Provider { operation, source }
    }

    pub fn kube(operation: &'static str) -> impl FnOnce(kube::Error) -> Self {
        move |source| Self::Kube { operation, source }
    }

    /// The condition reason a user sees.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidSpec { reason, .. } => reason,
            Self::Config(e) => e.reason(),
            Self::AmbiguousAdoption { .. } => "AmbiguousAdoption",
            Self::AdoptionRefused { .. } => "AlreadyExists",
            Self::CreateOutcomeUnknown { .. } => "CreateOutcomeUnknown",
            Self::Provider { source, .. } => source.reason(),
            Self::Kube { .. } | Self::Finalizer(_) => "KubernetesError",
            Self::MissingMetadata(_) => "InvalidObject",
            Self::Deleting { .. } => "Deleting",
            Self::Paused => "ReconcilePaused",
            Self::DeadlineExceeded { .. } => DEADLINE_EXCEEDED,
        }
    }

    /// Whether nothing coffer can see is wrong, only coffer's way to the
    /// cloud object: then `Ready` cannot vouch for the object either.
    pub fn blinds(&self) -> bool {
        match self {
            Self::Config(_)
            | Self::AmbiguousAdoption { .. }
            | Self::AdoptionRefused { .. }
            | Self::CreateOutcomeUnknown { .. } => true,
            Self::Provider { source, .. } => matches!(
                source,
                ProviderError::Unauthorized { .. } | ProviderError::EndpointNotAllowed(_)
            ),
            _ => false,
        }
    }
}

impl FinalizerFailure for Error {
    fn kube(operation: &'static str, source: kube::Error) -> Self {
        Self::Kube { operation, source }
    }

    fn other(message: String) -> Self {
        Self::Finalizer(message)
    }
}

impl ReconcileError for Error {
    fn is_retryable(&self) -> bool {
        match self {
            Self::Config(e) => e.is_retryable(),
            // An object that vanished between two calls is found again by the next pass.
            Self::Provider { source, .. } => source.is_retryable() || source.is_not_found(),
            Self::Kube { .. }
            | Self::Finalizer(_)
            | Self::Deleting { .. }
            | Self::DeadlineExceeded { .. } => true,
            Self::InvalidSpec { .. }
            | Self::AmbiguousAdoption { .. }
            | Self::AdoptionRefused { .. }
            | Self::CreateOutcomeUnknown { .. }
            | Self::MissingMetadata(_)
            | Self::Paused => false,
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
            Self::InvalidSpec { .. } => "invalid_spec",
            Self::Config(e) => e.metric_label(),
            Self::AmbiguousAdoption { .. } => "ambiguous_adoption",
            Self::AdoptionRefused { .. } => "adoption_refused",
            Self::CreateOutcomeUnknown { .. } => "create_outcome_unknown",
            Self::Provider { source, .. } => source.metric_label(),
            // Someone wrote the object after coffer read it: the write was
            // refused as stale, and the next reconcile reads it again.
            Self::Kube {
                source: kube::Error::Api(status),
                ..
            } if status.code == 409 => "stale_write",
            Self::Kube { .. } | Self::Finalizer(_) => "kubernetes",
            Self::MissingMetadata(_) => "invalid_object",
            Self::Deleting { .. } => "deleting",
            Self::Paused => "paused",
            Self::DeadlineExceeded { .. } => "deadline_exceeded",
        }
    }

    fn is_waiting(&self) -> bool {
        matches!(self, Self::Deleting { .. } | Self::Paused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_errors_are_not_retried() {
        let invalid = Error::Provider {
            operation: "create the vault".into(),
            source: ProviderError::Invalid {
                code: "BackupService.6101".into(),
                message: "bad size".into(),
            },
        };
        assert!(!invalid.is_retryable());
        assert!(
            !Error::AmbiguousAdoption {
                noun: "vault",
                name: "v".into(),
                ids: vec!["a".into(), "b".into()]
            }
            .is_retryable()
        );
        assert!(
            !Error::InvalidSpec {
                reason: "InvalidSpec",
                message: "no provider block".into()
            }
            .is_retryable()
        );
    }

    #[test]
    fn throttling_is_retried_after_the_providers_delay() {
        let throttled = Error::Provider {
            operation: "read the vault".into(),
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
    fn a_deadline_exceeded_is_retried_under_its_own_reason() {
        let e = Error::DeadlineExceeded {
            after: Duration::from_secs(60),
        };
        assert!(e.is_retryable());
        assert_eq!(e.reason(), DEADLINE_EXCEEDED);
        assert!(
            super::super::reasons::REASONS
                .iter()
                .any(|r| r.name == e.reason())
        );
        assert!(e.to_string().contains("60s"), "{e}");
        assert!(e.to_string().contains("--reconcile-deadline"), "{e}");
    }

    fn provider(source: ProviderError) -> Error {
        Error::Provider {
            operation: "read the vault".into(),
            source,
        }
    }

    fn kube_status(code: u16) -> Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "code": code, "reason": "Conflict", "message": "refused",
        }))
        .expect("status");
        Error::Kube {
            operation: "write the status",
            source: kube::Error::Api(Box::new(status)),
        }
    }

    #[test]
    fn an_object_that_vanished_between_two_calls_is_retried() {
        let vanished = provider(ProviderError::NotFound {
            what: "vault v1".into(),
            message: "gone".into(),
        });
        assert!(vanished.is_retryable());
        assert!(!provider(ProviderError::NotLeader).is_retryable());
    }

    #[test]
    fn only_what_hides_the_cloud_object_blinds_ready() {
        let blind = [
            Error::AdoptionRefused {
                noun: "vault",
                name: "v".into(),
                id: "x".into(),
            },
            Error::CreateOutcomeUnknown {
                noun: "vault",
                since: "t0".into(),
            },
            provider(ProviderError::Unauthorized {
                code: "IAM.0001".into(),
                message: "bad key".into(),
            }),
        ];
        for e in &blind {
            assert!(e.blinds(), "{e}");
        }
        let seeing = [
            provider(ProviderError::Transient {
                message: "502".into(),
            }),
            Error::InvalidSpec {
                reason: "InvalidSpec",
                message: "no provider block".into(),
            },
            Error::Paused,
        ];
        for e in &seeing {
            assert!(!e.blinds(), "{e}");
        }
    }

    #[test]
    fn a_write_refused_as_stale_has_its_own_metric_label() {
        assert_eq!(kube_status(409).metric_label(), "stale_write");
        assert_eq!(kube_status(500).metric_label(), "kubernetes");
        assert_eq!(kube_status(409).reason(), "KubernetesError");
    }

    #[test]
    fn only_a_delete_under_way_or_a_pause_is_waiting() {
        let deleting = Error::Deleting {
            noun: "vault",
            id: "v1".into(),
        };
        assert!(deleting.is_waiting());
        assert!(Error::Paused.is_waiting());
        assert!(!kube_status(500).is_waiting());
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = Error::AmbiguousAdoption {
            noun: "vault",
            name: "team-a".into(),
            ids: vec!["v1".into(), "v2".into()],
        };
        let text = e.to_string();
        assert!(text.contains("2 vaults named \"team-a\""), "{text}");
        assert!(text.contains("v1, v2"), "{text}");
        assert!(text.contains("remove their coffer-uid tag"), "{text}");
        let unknown = Error::CreateOutcomeUnknown {
            noun: "request",
            since: "2026-11-29T10:00:00Z".into(),
        }
        .to_string();
        assert!(
            unknown.contains("coffer.dev/retry-create=2026-11-29T10:00:00Z"),
            "{unknown}"
        );
    }
}
