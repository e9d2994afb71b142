//! From a ProviderConfig and its Secret to a provider client: reading both
//! from the watched caches, checking the Secret's keys, building the client
//! through one [`ProviderFactory`] (the seam where tests inject fakes), and
//! keeping one client per ProviderConfig so its token cache outlives a
//! reconcile. Credentials never reach a log line, an Event or a status.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::caches::{CREDENTIALS_LABEL, Caches};
use crate::api::ProviderConfig;
use crate::api::provider_config::{HuaweiAuthType, HuaweiCloudConfig};
use crate::provider::{ProviderError, VaultApi};

/// Why no client could be built for a ProviderConfig. None of these heal by
/// retrying: each waits for a change to the ProviderConfig or its Secret,
/// which the caches turn into a new reconcile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error(
        "ProviderConfig {name} not found in namespace {namespace}: create it, or fix spec.providerConfigRef"
    )]
    ProviderConfigNotFound { namespace: String, name: String },
    #[error("ProviderConfig {name} has no huaweiCloud block: add one")]
    NoProviderBlock { name: String },
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
    #[error("the client for ProviderConfig {name} could not be built: {source}")]
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
            Self::ProviderConfigNotFound { .. } => "ProviderConfigNotFound",
            Self::NoProviderBlock { .. } => "ProviderConfigInvalid",
            Self::SecretNotFound { .. } => "SecretNotFound",
            Self::SecretKeyMissing { .. } | Self::SecretKeyNotText { .. } => "SecretKeyMissing",
            Self::Client { source, .. } => source.reason(),
        }
    }

    /// A short label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::ProviderConfigNotFound { .. } => "provider_config_not_found",
            Self::NoProviderBlock { .. } => "provider_config_invalid",
            Self::SecretNotFound { .. } => "secret_not_found",
            Self::SecretKeyMissing { .. } | Self::SecretKeyNotText { .. } => "secret_key_missing",
            Self::Client { source, .. } => source.metric_label(),
        }
    }

    /// Whether the same attempt may succeed later without a change in the cluster.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Client { source, .. } if source.is_retryable())
    }
}

/// The keys a Secret must hold for `auth`.
pub fn required_keys(auth: HuaweiAuthType) -> &'static [&'static str] {
    match auth {
        HuaweiAuthType::AccessKey => &["accessKey", "secretKey"],
        HuaweiAuthType::Password => &["username", "password", "domainName"],
    }
}

/// Huawei Cloud credentials read from a Secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    AccessKey {
        access_key: String,
        secret_key: String,
    },
    Password {
        username: String,
        password: String,
        domain_name: String,
    },
}

/// Shows which kind of credentials, never the values.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessKey { .. } => f.write_str("AccessKey(<redacted>)"),
            Self::Password { .. } => f.write_str("Password(<redacted>)"),
        }
    }
}

/// Everything a Huawei client needs: a ProviderConfig with its endpoints
/// defaulted, and the credentials from its Secret. Field for field what the
/// Huawei client's connection takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuaweiSettings {
    pub region: String,
    pub project_id: String,
    pub domain_id: Option<String>,
    pub iam_endpoint: String,
    pub cbr_endpoint: String,
    pub ca_bundle: Option<String>,
    pub credentials: Credentials,
}

/// Builds provider clients. The one place that knows which client type
/// serves which provider; tests swap it for fakes.
pub trait ProviderFactory: Send + Sync + 'static {
    /// A vault client for one ProviderConfig.
    fn vaults(&self, settings: &HuaweiSettings) -> Result<Arc<dyn VaultApi>, ProviderError>;
}

/// The production factory: Huawei Cloud's CBR client.
#[derive(Debug, Default)]
pub struct HuaweiFactory;

impl ProviderFactory for HuaweiFactory {
    fn vaults(&self, _settings: &HuaweiSettings) -> Result<Arc<dyn VaultApi>, ProviderError> {
        // The Huawei client lands separately; until then every ProviderConfig
        // reports this instead of pretending to work.
        Err(ProviderError::Invalid {
            code: "NotImplemented".into(),
            message: "this build of coffer has no Huawei Cloud client".into(),
        })
    }
}

/// Reads `huaweiCloud` and the Secret into settings, checking every key the
/// credential type needs.
pub fn resolve(pc: &ProviderConfig, secret: &Secret) -> Result<HuaweiSettings, Error> {
    let name = pc.name_any();
    let huawei = pc
        .spec
        .huawei_cloud
        .as_ref()
        .ok_or_else(|| Error::NoProviderBlock { name: name.clone() })?;
    let credentials = read_credentials(huawei, secret)?;
    let endpoints = huawei.endpoints.clone().unwrap_or_default();
    Ok(HuaweiSettings {
        region: huawei.region.clone(),
        project_id: huawei.project_id.clone(),
        domain_id: huawei.domain_id.clone(),
        iam_endpoint: endpoints
            .iam
            .unwrap_or_else(|| default_endpoint("iam", &huawei.region)),
        cbr_endpoint: endpoints
            .cbr
            .unwrap_or_else(|| default_endpoint("cbr", &huawei.region)),
        ca_bundle: huawei.ca_bundle.clone(),
        credentials,
    })
}

fn default_endpoint(service: &str, region: &str) -> String {
    format!("https://{service}.{region}.myhuaweicloud.com")
}

fn read_credentials(huawei: &HuaweiCloudConfig, secret: &Secret) -> Result<Credentials, Error> {
    let auth = huawei.credentials.auth_type;
    let key = |key: &'static str| secret_value(secret, key, auth);
    Ok(match auth {
        HuaweiAuthType::AccessKey => Credentials::AccessKey {
            access_key: key("accessKey")?,
            secret_key: key("secretKey")?,
        },
        HuaweiAuthType::Password => Credentials::Password {
            username: key("username")?,
            password: key("password")?,
            domain_name: key("domainName")?,
        },
    })
}

/// One key of the Secret, without the trailing newline that `kubectl create
/// secret --from-file` so often leaves behind.
fn secret_value(secret: &Secret, key: &'static str, auth: HuaweiAuthType) -> Result<String, Error> {
    let missing = || Error::SecretKeyMissing {
        secret: secret.name_any(),
        key,
        auth,
    };
    let bytes = secret
        .data
        .as_ref()
        .and_then(|data| data.get(key))
        .ok_or_else(missing)?;
    let text = std::str::from_utf8(&bytes.0).map_err(|_| Error::SecretKeyNotText {
        secret: secret.name_any(),
        key,
    })?;
    let text = text.trim();
    if text.is_empty() {
        return Err(missing());
    }
    Ok(text.to_string())
}

/// What a cached client was built from. Generation, not resourceVersion, for
/// the ProviderConfig: its status changes must not throw the token away.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    config_uid: Option<String>,
    config_generation: Option<i64>,
    secret_uid: Option<String>,
    secret_version: Option<String>,
}

struct Cached {
    fingerprint: Fingerprint,
    vaults: Arc<dyn VaultApi>,
}

/// One client per ProviderConfig, rebuilt only when the ProviderConfig's
/// spec or its Secret changes.
pub struct ProviderClients {
    factory: Arc<dyn ProviderFactory>,
    clients: Mutex<HashMap<(String, String), Cached>>,
}

impl ProviderClients {
    pub fn new(factory: Arc<dyn ProviderFactory>) -> Self {
        Self {
            factory,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The vault client for ProviderConfig `name` in `namespace`, from the caches.
    pub fn vaults(
        &self,
        caches: &Caches,
        namespace: &str,
        name: &str,
    ) -> Result<Arc<dyn VaultApi>, Error> {
        let pc = caches.provider_config(namespace, name).ok_or_else(|| {
            Error::ProviderConfigNotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
            }
        })?;
        self.vaults_for(caches, &pc)
    }

    /// The vault client for `pc`, reading its Secret from the caches.
    pub fn vaults_for(
        &self,
        caches: &Caches,
        pc: &ProviderConfig,
    ) -> Result<Arc<dyn VaultApi>, Error> {
        let namespace = pc.namespace().unwrap_or_default();
        let name = pc.name_any();
        let huawei = pc
            .spec
            .huawei_cloud
            .as_ref()
            .ok_or_else(|| Error::NoProviderBlock { name: name.clone() })?;
        let secret_name = &huawei.credentials.secret_ref.name;
        let secret =
            caches
                .secret(&namespace, secret_name)
                .ok_or_else(|| Error::SecretNotFound {
                    namespace: namespace.clone(),
                    name: secret_name.clone(),
                })?;
        let fingerprint = Fingerprint {
            config_uid: pc.uid(),
            config_generation: pc.metadata.generation,
            secret_uid: secret.uid(),
            secret_version: secret.resource_version(),
        };
        let key = (namespace, name.clone());
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cached) = clients.get(&key)
            && cached.fingerprint == fingerprint
        {
            return Ok(cached.vaults.clone());
        }
        let settings = resolve(pc, &secret)?;
        let vaults = self
            .factory
            .vaults(&settings)
            .map_err(|source| Error::Client { name, source })?;
        clients.insert(
            key,
            Cached {
                fingerprint,
                vaults: vaults.clone(),
            },
        );
        Ok(vaults)
    }

    /// Drops the client of a ProviderConfig that no longer exists.
    pub fn forget(&self, namespace: &str, name: &str) {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(namespace.to_string(), name.to_string()));
    }
}
