//! The one error type every provider client returns. Each variant knows
//! whether a retry can help and which condition reason it shows the user.

use std::time::Duration;

use super::endpoints::Refused;
use super::tls_failure::TlsFailure;

/// The condition reason of a URL outside the admin's allowed endpoints.
pub const ENDPOINT_NOT_ALLOWED: &str = "EndpointNotAllowed";

/// What went wrong talking to a provider, in terms a controller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The object does not exist (or no longer does).
    #[error("{what} not found: {message}")]
    NotFound { what: String, message: String },
    /// The provider refused because of the object's current state or a
    /// concurrent change; retrying later may succeed.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// The provider's rate limit was hit. Retry after the given delay.
    #[error("throttled by the provider ({code}): {message}")]
    Throttled {
        code: String,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The request is invalid and will stay invalid until the spec changes.
    #[error("the provider rejected the request ({code}): {message}; fix the spec")]
    Invalid { code: String, message: String },
    /// The credentials were refused. Fix the Secret or the ProviderConfig.
    #[error(
        "the provider refused the credentials ({code}): {message}; check the Secret and the ProviderConfig"
    )]
    Unauthorized { code: String, message: String },
    /// A network failure, timeout or server error; retrying may succeed.
    #[error("the provider is unavailable: {message}")]
    Transient { message: String },
    /// TLS failed: a certificate not trusted, for another name or expired,
    /// or a CA bundle with no certificate. Retrying cannot help until the
    /// ProviderConfig, the object its CA comes from, or the server changes.
    #[error("{0}")]
    Tls(TlsFailure),
    /// A list read more, across its pages, than coffer reads for one list
    /// (`listing::ListCap`): a provider paging without end, or an account
    /// far larger than any coffer serves.
    #[error(
        "listing {what} read more than {cap} across its pages, the most coffer reads for one list; \
         it stopped there. The provider may be paging without end: check the ProviderConfig's endpoint"
    )]
    ListTooLarge { what: String, cap: String },
    /// The URL is outside the admin's allowed endpoints (a provider handed
    /// it out, as Rackspace's catalog does): no request was sent.
    #[error("{0}")]
    EndpointNotAllowed(Refused),
    /// Not sent: this replica's leader Lease may have passed to another
    /// (it was not renewed within the renew deadline), so it starts no
    /// call and exits. Never retried, never shown: the process is leaving.
    #[error("{}", crate::fence::Closed)]
    NotLeader,
}

impl ProviderError {
    /// Whether retrying the same request unchanged can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Conflict { .. } | Self::Throttled { .. } | Self::Transient { .. }
        )
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The condition reason a user sees for this error.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NotFound",
            Self::Conflict { .. } => "Conflict",
            Self::Throttled { .. } => "Throttled",
            Self::Invalid { .. } => "InvalidRequest",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::Transient { .. } => "ProviderUnavailable",
            Self::Tls(failure) => failure.problem.reason(),
            Self::ListTooLarge { .. } => "ListTooLarge",
            Self::EndpointNotAllowed(_) => ENDPOINT_NOT_ALLOWED,
            Self::NotLeader => "NotLeader",
        }
    }

    /// A short label for metrics (bounded set).
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Throttled { .. } => "throttled",
            Self::Invalid { .. } => "invalid",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Transient { .. } => "transient",
            Self::Tls(_) => "tls",
            Self::ListTooLarge { .. } => "list_too_large",
            Self::EndpointNotAllowed(_) => "endpoint_not_allowed",
            Self::NotLeader => "not_leader",
        }
    }

    /// Whether a create that failed this way may still have happened: the
    /// answer was lost (a timeout, a 5xx, a dropped connection) or says the
    /// object exists. Every other error proves nothing was created.
    pub fn leaves_doubt(&self) -> bool {
        matches!(self, Self::Transient { .. } | Self::Conflict { .. })
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }
}
