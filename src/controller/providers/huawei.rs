//! A Huawei ProviderConfig and its Secret, read into a connection: the
//! keys each credential type needs, each named when it is missing.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::error::Error;
use super::secret::secret_text;
use super::source::Source;
use crate::api::provider_config::{HuaweiAuthType, HuaweiCloudConfig};
use crate::provider::huawei::{HuaweiConnection, HuaweiCredentials};

/// Reads `huaweiCloud` and the Secret into a connection, checking every key
/// the credential type needs.
pub fn resolve(source: &Source, secret: &Secret) -> Result<HuaweiConnection, Error> {
    let huawei = source
        .spec
        .huawei_cloud
        .as_ref()
        .ok_or_else(|| Error::NoProviderBlock {
            name: source.label.clone(),
        })?;
    let credentials = read_credentials(huawei, secret)?;
    let endpoints = huawei.endpoints.clone().unwrap_or_default();
    Ok(HuaweiConnection {
        region: huawei.region.clone(),
        project_id: huawei.project_id.clone(),
        domain_id: huawei.domain_id.clone(),
        iam_endpoint: endpoints
            .iam
            .unwrap_or_else(|| HuaweiConnection::default_endpoint("iam", &huawei.region)),
        cbr_endpoint: endpoints
            .cbr
            .unwrap_or_else(|| HuaweiConnection::default_endpoint("cbr", &huawei.region)),
        ca_bundle: huawei.ca_bundle.clone(),
        credentials,
    })
}

fn read_credentials(
    huawei: &HuaweiCloudConfig,
    secret: &Secret,
) -> Result<HuaweiCredentials, Error> {
    let auth = huawei.credentials.auth_type;
    let key = |key: &'static str| secret_value(secret, key, auth);
    Ok(match auth {
        HuaweiAuthType::AccessKey => HuaweiCredentials::AccessKey {
            access_key: key("accessKey")?,
            secret_key: key("secretKey")?,
        },
        HuaweiAuthType::Password => HuaweiCredentials::Password {
            username: key("username")?,
            password: key("password")?,
            domain_name: key("domainName")?,
        },
    })
}

/// One key of the Secret, without the trailing newline that `kubectl create
/// secret --from-file` so often leaves behind.
fn secret_value(secret: &Secret, key: &'static str, auth: HuaweiAuthType) -> Result<String, Error> {
    secret_text(secret, key)?.ok_or_else(|| Error::SecretKeyMissing {
        secret: secret.name_any(),
        key,
        auth,
    })
}
