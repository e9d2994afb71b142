//! A Rackspace ProviderConfig and its Secret as a [`RackspaceConnection`]:
//! the identity endpoint (the public one unless overridden), the region of
//! the Cloud Backup endpoint, and `username` with `apiKey` or `password`.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::Error;
use crate::api::ProviderConfig;
use crate::api::provider_config::RACKSPACE_IDENTITY_ENDPOINT;
use crate::provider::rackspace::{RackspaceConnection, RackspaceSecret};

/// Reads `rackspace` and the Secret; an API key wins over a password.
pub fn resolve_rackspace(
    pc: &ProviderConfig,
    secret: &Secret,
) -> Result<RackspaceConnection, Error> {
    let rackspace = pc
        .spec
        .rackspace
        .as_ref()
        .ok_or_else(|| Error::NoProviderBlock {
            name: pc.name_any(),
        })?;
    let value = |key: &'static str| -> Result<Option<String>, Error> {
        let Some(bytes) = secret.data.as_ref().and_then(|d| d.get(key)) else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes.0).map_err(|_| Error::SecretKeyNotText {
            secret: secret.name_any(),
            key,
        })?;
        Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
    };
    let missing = |key| Error::RackspaceKeyMissing {
        secret: secret.name_any(),
        key,
    };
    let username = value("username")?.ok_or_else(|| missing("username"))?;
    let secret_value = match (value("apiKey")?, value("password")?) {
        (Some(key), _) => RackspaceSecret::ApiKey(key),
        (None, Some(password)) => RackspaceSecret::Password(password),
        (None, None) => return Err(missing("apiKey")),
    };
    Ok(RackspaceConnection {
        identity_endpoint: rackspace
            .identity_endpoint
            .clone()
            .unwrap_or_else(|| RACKSPACE_IDENTITY_ENDPOINT.to_string()),
        region: rackspace.region.clone(),
        username,
        secret: secret_value,
    })
}
