//! Reading one key of a credentials Secret, the same way for every cloud.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use super::error::Error;

/// The text of `key`, trimmed; `None` when the key is missing or blank.
/// Shared by every cloud's credentials.
pub fn secret_text(secret: &Secret, key: &'static str) -> Result<Option<String>, Error> {
    let Some(bytes) = secret.data.as_ref().and_then(|data| data.get(key)) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes.0).map_err(|_| Error::SecretKeyNotText {
        secret: secret.name_any(),
        key,
    })?;
    Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
}
