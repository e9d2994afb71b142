//! A Commvault ProviderConfig and its Secret, read into a connection, and
//! the API clients built from it (one session token for all of them).

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::Error;
use crate::api::ProviderConfig;
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::commvault::{CommvaultConnection, CommvaultVaults, S3VaultApi};
use crate::provider::metrics::ProviderMetrics;

/// Every Commvault API coffer uses, for one CommCell and user.
pub struct CommvaultApis {
    /// S3 vaults (Unified Data Vault) and their endpoint jobs.
    pub vaults: Arc<dyn S3VaultApi>,
}

impl CommvaultApis {
    /// The real clients for `conn`.
    pub fn connect(
        conn: CommvaultConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            vaults: Arc::new(CommvaultVaults::new(conn, metrics, budget)?),
        })
    }
}

/// Reads `commvault` and the Secret's `username` and `password`.
pub fn resolve(pc: &ProviderConfig, secret: &Secret) -> Result<CommvaultConnection, Error> {
    let commvault = pc
        .spec
        .commvault
        .as_ref()
        .ok_or_else(|| Error::NoProviderBlock {
            name: pc.name_any(),
        })?;
    Ok(CommvaultConnection {
        api_url: commvault.api_url.clone(),
        username: key(secret, "username")?,
        password: key(secret, "password")?,
        ca_bundle: commvault.ca_bundle.clone(),
    })
}

/// One key of the Secret, trimmed of the newline `--from-file` leaves.
fn key(secret: &Secret, key: &'static str) -> Result<String, Error> {
    let missing = || Error::CommvaultKeyMissing {
        secret: secret.name_any(),
        key,
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
    match text.trim() {
        "" => Err(missing()),
        text => Ok(text.to_string()),
    }
}
