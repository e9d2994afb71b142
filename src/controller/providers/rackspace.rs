//! A Rackspace ProviderConfig and its Secret as a [`RackspaceConnection`]:
//! the identity endpoint (the public one unless overridden), the region of
//! the Cloud Backup endpoint, and `username` with `apiKey` or `password`.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::error::Error;
use super::source::Source;
use crate::api::provider_config::RACKSPACE_IDENTITY_ENDPOINT;
use crate::provider::endpoints::EndpointPolicy;
use crate::provider::rackspace::{RackspaceConnection, RackspaceSecret};

/// Reads `rackspace` and the Secret; an API key wins over a password.
pub fn resolve_rackspace(source: &Source, secret: &Secret) -> Result<RackspaceConnection, Error> {
    let rackspace = source
        .spec
        .rackspace
        .as_ref()
        .ok_or_else(|| Error::NoProviderBlock {
            name: source.label.clone(),
        })?;
    let value = |key: &'static str| super::secret::secret_text(secret, key);
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
        ca_bundle: rackspace.ca_bundle.clone(),
        // The session builder sets the admin's list; none until then.
        allowed: EndpointPolicy::none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProviderConfig;
    use crate::api::ProviderConfigSpec;
    use crate::api::provider_config::{Credentials, RackspaceConfig, SecretRef};

    fn config(identity: Option<&str>) -> ProviderConfig {
        ProviderConfig::new(
            "rax",
            ProviderConfigSpec {
                commvault: None,
                huawei_cloud: None,
                rackspace: Some(RackspaceConfig {
                    identity_endpoint: identity.map(str::to_owned),
                    region: "DFW".into(),
                    credentials: Credentials {
                        secret_ref: SecretRef {
                            name: "creds".into(),
                        },
                    },
                    ca_bundle: None,
                    ca_bundle_ref: None,
                }),
                rate_limit: None,
            },
        )
    }

    fn secret(data: &[(&str, &str)]) -> Secret {
        let mut s = Secret::default();
        s.metadata.name = Some("creds".into());
        s.data = Some(
            data.iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        k8s_openapi::ByteString(v.as_bytes().to_vec()),
                    )
                })
                .collect(),
        );
        s
    }

    #[test]
    fn an_api_key_wins_and_the_public_identity_endpoint_is_the_default() {
        let conn = resolve_rackspace(
            &Source::namespaced(&config(None)),
            &secret(&[("username", "u\n"), ("apiKey", "k"), ("password", "p")]),
        )
        .expect("resolved");
        assert_eq!(conn.identity_endpoint, RACKSPACE_IDENTITY_ENDPOINT);
        assert_eq!(conn.username, "u");
        assert!(matches!(conn.secret, RackspaceSecret::ApiKey(k) if k == "k"));
    }

    #[test]
    fn a_password_serves_without_an_api_key() {
        let conn = resolve_rackspace(
            &Source::namespaced(&config(Some("http://127.0.0.1:8780/v2.0"))),
            &secret(&[("username", "u"), ("password", "p")]),
        )
        .expect("resolved");
        assert_eq!(conn.identity_endpoint, "http://127.0.0.1:8780/v2.0");
        assert!(matches!(conn.secret, RackspaceSecret::Password(p) if p == "p"));
    }

    #[test]
    fn missing_keys_are_named() {
        let no_user = resolve_rackspace(
            &Source::namespaced(&config(None)),
            &secret(&[("apiKey", "k")]),
        );
        assert!(matches!(
            no_user,
            Err(Error::RackspaceKeyMissing {
                key: "username",
                ..
            })
        ));
        let no_secret = resolve_rackspace(
            &Source::namespaced(&config(None)),
            &secret(&[("username", "u")]),
        )
        .expect_err("refused")
        .to_string();
        assert!(no_secret.contains("`apiKey` or `password`"), "{no_secret}");
    }
}
