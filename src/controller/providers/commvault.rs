//! A Commvault ProviderConfig and its Secret, read into a connection, and
//! the API clients built from it (one session token for all of them).

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::error::Error;
use super::source::Source;
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
pub fn resolve(source: &Source, secret: &Secret) -> Result<CommvaultConnection, Error> {
    let commvault = source
        .spec
        .commvault
        .as_ref()
        .ok_or_else(|| Error::NoProviderBlock {
            name: source.label.clone(),
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
    super::secret::secret_text(secret, key)?.ok_or_else(|| Error::CommvaultKeyMissing {
        secret: secret.name_any(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;

    use super::*;
    use crate::api::ProviderConfig;
    use crate::api::provider_config::{
        CommvaultConfig, Credentials, ProviderConfigSpec, SecretRef,
    };
    use crate::controller::providers::Session;

    fn config() -> ProviderConfig {
        ProviderConfig::new(
            "commvault",
            ProviderConfigSpec {
                rackspace: None,
                huawei_cloud: None,
                rate_limit: None,
                commvault: Some(CommvaultConfig {
                    api_url: "https://cc.example.com/commandcenter/api".into(),
                    credentials: Credentials {
                        secret_ref: SecretRef { name: "cv".into() },
                    },
                    ca_bundle: None,
                    ca_bundle_ref: None,
                }),
            },
        )
    }

    fn secret(data: &[(&str, &str)]) -> Secret {
        let mut s = Secret::default();
        s.metadata.name = Some("cv".into());
        s.data = Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                .collect::<BTreeMap<_, _>>(),
        );
        s
    }

    #[test]
    fn the_secret_gives_user_and_password_and_never_shows_the_password() {
        let conn = resolve(
            &Source::namespaced(&config()),
            &secret(&[("username", "admin\n"), ("password", "s3cret")]),
        )
        .expect("resolved");
        assert_eq!(conn.username, "admin");
        assert_eq!(conn.password, "s3cret");
        assert!(!format!("{conn:?}").contains("s3cret"));
        assert_eq!(config().spec.secret_name(), Some("cv"));
    }

    #[test]
    fn a_missing_password_is_named() {
        let err = resolve(
            &Source::namespaced(&config()),
            &secret(&[("username", "admin")]),
        )
        .expect_err("missing");
        assert_eq!(err.reason(), "SecretKeyMissing");
        assert!(err.to_string().contains("\"password\""), "{err}");
    }

    #[test]
    fn a_commvault_session_is_the_wrong_provider_for_a_huawei_object() {
        let apis = CommvaultApis {
            vaults: Arc::new(
                crate::provider::commvault::CommvaultVaults::new(
                    resolve(
                        &Source::namespaced(&config()),
                        &secret(&[("username", "a"), ("password", "b")]),
                    )
                    .expect("resolved"),
                    Arc::new(ProviderMetrics::default()),
                    Arc::new(RateBudget::new(
                        "t",
                        crate::provider::budget::BudgetLimits::UNLIMITED,
                        crate::provider::budget::BudgetMetrics::default(),
                    )),
                )
                .expect("client"),
            ),
        };
        let session = Session::Commvault(Arc::new(apis));
        assert!(session.commvault().is_ok());
        let err = session.huawei().err().expect("wrong provider");
        assert_eq!(err.reason(), "ProviderConfigInvalid");
    }
}
