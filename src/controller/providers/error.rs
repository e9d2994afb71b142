//! Why no client could be built for a ProviderConfig, and the reason and
//! metric label each cause shows as.

use crate::api::provider_config::HuaweiAuthType;
use crate::controller::caches::CREDENTIALS_LABEL;
use crate::controller::engine::ConfigProblem;
use crate::provider::ProviderError;
use crate::provider::endpoints::Refused;
use crate::provider::error::ENDPOINT_NOT_ALLOWED;

use super::keys::required_keys;

/// The reason an object shows when the ClusterProviderConfig it names does
/// not allow its namespace.
pub const NOT_ALLOWED: &str = "ProviderConfigNotAllowed";

/// Why no client could be built for a ProviderConfig. None of these heal by
/// retrying: each waits for a change to the ProviderConfig or its Secret,
/// which the caches turn into a new reconcile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(
        "ProviderConfig {name} not found in namespace {namespace}: create it, or fix spec.providerConfigRef"
    )]
    ProviderConfigNotFound { namespace: String, name: String },
    #[error(
        "ClusterProviderConfig {name} not found: ask the cluster admin which ClusterProviderConfigs your namespace may use (kubectl get clusterproviderconfigs), or fix spec.providerConfigRef"
    )]
    ClusterProviderConfigNotFound { name: String },
    #[error(
        "ClusterProviderConfig {name} does not allow namespace {namespace}: a cluster admin adds {namespace} to its spec.allowedNamespaces.names{selector}; or point spec.providerConfigRef at a ProviderConfig in {namespace}"
    )]
    NotAllowed {
        name: String,
        namespace: String,
        /// What the selector would need, when it has one, as a sentence
        /// fragment (`, or labels namespace team-a to match app=x`).
        selector: String,
    },
    #[error(
        "this coffer does not serve ClusterProviderConfigs (it runs with --cluster-provider-configs=false, chart value clusterProviderConfigs.enabled): point spec.providerConfigRef at a ProviderConfig in the object's namespace"
    )]
    ClusterProviderConfigsOff,
    #[error("{name} has no provider block: add huaweiCloud, rackspace or commvault")]
    NoProviderBlock { name: String },
    #[error(
        "the ProviderConfig is for {has}, but this object needs {wanted}: point spec.providerConfigRef at a ProviderConfig with a {wanted} block"
    )]
    WrongProvider {
        has: &'static str,
        wanted: &'static str,
    },
    #[error(
        "Secret {secret} has no non-empty key {key:?}; Commvault credentials need the keys username, password"
    )]
    CommvaultKeyMissing { secret: String, key: &'static str },
    #[error(
        "Secret {secret} must hold a non-empty {key:?}: Rackspace credentials are `username` and either `apiKey` or `password`"
    )]
    RackspaceKeyMissing { secret: String, key: &'static str },
    #[error(
        "Secret {name} in namespace {namespace} not found (coffer only reads Secrets labelled {CREDENTIALS_LABEL}=true)"
    )]
    SecretNotFound { namespace: String, name: String },
    #[error(
        "Secret {secret} has no non-empty key {key:?}; {auth:?} credentials need the keys {}",
        required_keys(*.auth).join(", ")
    )]
    SecretKeyMissing {
        secret: String,
        key: &'static str,
        auth: HuaweiAuthType,
    },
    #[error("key {key:?} of Secret {secret} is not UTF-8 text")]
    SecretKeyNotText { secret: String, key: &'static str },
    #[error(
        "{kind} {name} named by caBundleRef not found in namespace {namespace}: create it, or label it {CREDENTIALS_LABEL}=true (coffer reads only labelled Secrets and ConfigMaps)"
    )]
    CaBundleNotFound {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    #[error(
        "{kind} {name} has no key {key:?} (caBundleRef.key): put the CA's PEM there, or fix the key"
    )]
    CaBundleKeyMissing {
        kind: &'static str,
        name: String,
        key: String,
    },
    #[error("key {key:?} of {kind} {name} (caBundleRef) is not UTF-8 text: it must hold PEM")]
    CaBundleNotText {
        kind: &'static str,
        name: String,
        key: String,
    },
    #[error("{name}: {refused}")]
    EndpointNotAllowed { name: String, refused: Refused },
    #[error("the client for {name} could not be built: {source}")]
    Client {
        name: String,
        #[source]
        source: ProviderError,
    },
}

impl Error {
    /// The condition reason a user sees.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::ProviderConfigNotFound { .. } | Self::ClusterProviderConfigNotFound { .. } => {
                "ProviderConfigNotFound"
            }
            Self::NotAllowed { .. } | Self::ClusterProviderConfigsOff => NOT_ALLOWED,
            Self::NoProviderBlock { .. } | Self::WrongProvider { .. } => "ProviderConfigInvalid",
            Self::SecretNotFound { .. } => "SecretNotFound",
            Self::SecretKeyMissing { .. }
            | Self::SecretKeyNotText { .. }
            | Self::CommvaultKeyMissing { .. }
            | Self::RackspaceKeyMissing { .. } => "SecretKeyMissing",
            Self::CaBundleNotFound { .. } => "CaBundleNotFound",
            Self::CaBundleKeyMissing { .. } => "CaBundleKeyMissing",
            Self::CaBundleNotText { .. } => "CaBundleInvalid",
            Self::EndpointNotAllowed { .. } => ENDPOINT_NOT_ALLOWED,
            Self::Client { source, .. } => source.reason(),
        }
    }

    /// A short label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::ProviderConfigNotFound { .. } | Self::ClusterProviderConfigNotFound { .. } => {
                "provider_config_not_found"
            }
            Self::NotAllowed { .. } | Self::ClusterProviderConfigsOff => {
                "provider_config_not_allowed"
            }
            Self::NoProviderBlock { .. } | Self::WrongProvider { .. } => "provider_config_invalid",
            Self::SecretNotFound { .. } => "secret_not_found",
            Self::SecretKeyMissing { .. }
            | Self::SecretKeyNotText { .. }
            | Self::CommvaultKeyMissing { .. }
            | Self::RackspaceKeyMissing { .. } => "secret_key_missing",
            Self::CaBundleNotFound { .. }
            | Self::CaBundleKeyMissing { .. }
            | Self::CaBundleNotText { .. } => "tls",
            Self::EndpointNotAllowed { .. } => "endpoint_not_allowed",
            Self::Client { source, .. } => source.metric_label(),
        }
    }

    /// Whether the same attempt may succeed later without a change in the cluster.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Client { source, .. } if source.is_retryable())
    }
}

impl ConfigProblem for Error {
    fn reason(&self) -> &'static str {
        Error::reason(self)
    }

    fn metric_label(&self) -> &'static str {
        Error::metric_label(self)
    }

    fn is_retryable(&self) -> bool {
        Error::is_retryable(self)
    }
}
