//! The passphrase and where it lives: the user's Secret (read from the
//! watched cache, so it must carry the `coffer.dev/credentials=true` label
//! and its change wakes the vault), and coffer's own copy of the passphrase
//! the vault is encrypted with — a Secret in the same namespace owned by the
//! BackupVault (garbage-collected with it), read and written directly, never
//! through a cache that could be stale. Status only ever holds a fingerprint:
//! an HMAC under a random key that lives only in that copy, so someone who
//! can read the BackupVault (and its uid) cannot test guesses against it.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::api::BackupVault;
use crate::api::backup_vault::PassphraseSecretRef;
use crate::controller::caches::{CREDENTIALS_LABEL, Caches};
use crate::controller::engine::status::FIELD_MANAGER;
use crate::provider::ProviderError;

/// The key of the passphrase the vault is encrypted with, in coffer's copy.
pub const CURRENT_KEY: &str = "passphrase";
/// The key of a passphrase requested and not yet confirmed.
pub const PENDING_KEY: &str = "pending";
/// The key of the fingerprints' HMAC key (hex), in coffer's copy.
pub const FINGERPRINT_KEY: &str = "fingerprint-key";
/// Marks coffer's copies, for people and for RBAC audits.
pub const OWNED_LABEL: &str = "coffer.dev/passphrase-of";

/// A passphrase. `Debug` never shows it, so it cannot reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(String);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

impl Passphrase {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The text, for encrypting it and for coffer's own Secret only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// An HMAC-SHA-256 of the passphrase under `key`, shortened: tells two
    /// passphrases apart in status without revealing either, and without
    /// the key (which only coffer's copy holds) no guess can be checked
    /// against it.
    pub fn fingerprint(&self, key: &FingerprintKey) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key length");
        mac.update(b"coffer-passphrase:");
        mac.update(self.0.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    /// The fingerprint coffer showed before it had a key: a SHA-256 salted
    /// with the object's uid, which anyone who reads the object knows.
    /// Only recognised, to move a vault's status to [`Self::fingerprint`]
    /// without a new encryption request; never shown again.
    pub fn legacy_fingerprint(&self, uid: &str) -> String {
        let digest = Sha256::digest(format!("coffer-passphrase:{uid}:{}", self.0).as_bytes());
        hex::encode(&digest[..8])
    }
}

/// The key of the passphrase fingerprints of one vault: random, kept only
/// in coffer's copy. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct FingerprintKey(Vec<u8>);

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FingerprintKey(<redacted>)")
    }
}

impl FingerprintKey {
    /// A new key of 32 random bytes.
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

/// What coffer's copy holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kept {
    /// The passphrase the vault is encrypted with, as far as coffer knows.
    pub current: Option<Passphrase>,
    /// Sent in a request the agent has not confirmed yet.
    pub pending: Option<Passphrase>,
    /// The fingerprints' key, once coffer saved one.
    pub key: Option<FingerprintKey>,
}

impl Kept {
    /// Whether the copy holds a passphrase but no fingerprint key yet (a
    /// vault encrypted before coffer had keys): the key must be saved
    /// before a fingerprint made with it is shown.
    pub fn needs_key(&self) -> bool {
        self.key.is_none() && (self.current.is_some() || self.pending.is_some())
    }
}

/// Why the user's passphrase cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassphraseError {
    #[error(
        "passphrase Secret {name} not found in namespace {namespace}: create it, and label it {CREDENTIALS_LABEL}=true (coffer reads only Secrets with that label)"
    )]
    SecretNotFound { namespace: String, name: String },
    #[error("passphrase Secret {name} has no non-empty key {key:?}")]
    KeyMissing { name: String, key: String },
    #[error("key {key:?} of passphrase Secret {name} is not UTF-8 text")]
    NotText { name: String, key: String },
}

/// The user's passphrase from the watched Secret cache.
pub fn desired(
    caches: &Caches,
    namespace: &str,
    secret_ref: &PassphraseSecretRef,
) -> Result<Passphrase, PassphraseError> {
    let name = secret_ref.name.clone();
    let key = secret_ref.key.clone();
    let secret =
        caches
            .secret(namespace, &name)
            .ok_or_else(|| PassphraseError::SecretNotFound {
                namespace: namespace.to_string(),
                name: name.clone(),
            })?;
    match read_key(&secret, &key) {
        Ok(Some(text)) => Ok(Passphrase(text)),
        Ok(None) => Err(PassphraseError::KeyMissing { name, key }),
        Err(()) => Err(PassphraseError::NotText { name, key }),
    }
}

/// A key's text without a trailing newline; `Ok(None)` when absent or empty.
fn read_key(secret: &Secret, key: &str) -> Result<Option<String>, ()> {
    let Some(bytes) = secret.data.as_ref().and_then(|d| d.get(key)) else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes.0).map_err(|_| ())?;
    let text = text.trim_end_matches(['\n', '\r']);
    Ok(Some(text.to_string()).filter(|t| !t.is_empty()))
}

/// The name of coffer's copy for BackupVault `vault`.
pub fn owned_name(vault: &str) -> String {
    format!("{vault}-coffer-passphrase")
}

/// coffer's own copy of one BackupVault's passphrase.
#[derive(Clone)]
pub struct Keeper {
    api: Api<Secret>,
    name: String,
    owner: OwnerReference,
}

impl Keeper {
    pub fn new(client: kube::Client, bv: &BackupVault) -> Option<Self> {
        let namespace = bv.namespace()?;
        Some(Self {
            api: Api::namespaced(client, &namespace),
            name: owned_name(&bv.name_any()),
            owner: bv.controller_owner_ref(&())?,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads the copy; empty when there is none yet.
    pub async fn read(&self) -> Result<Kept, ProviderError> {
        let secret = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| kube(&self.name, e))?;
        let Some(secret) = secret else {
            return Ok(Kept::default());
        };
        let value = |key| read_key(&secret, key).ok().flatten().map(Passphrase);
        // Hex, so that the copy stays text like the passphrases beside it.
        let key = read_key(&secret, FINGERPRINT_KEY)
            .ok()
            .flatten()
            .and_then(|text| hex::decode(text).ok())
            .filter(|bytes| !bytes.is_empty())
            .map(FingerprintKey);
        Ok(Kept {
            current: value(CURRENT_KEY),
            pending: value(PENDING_KEY),
            key,
        })
    }

    /// Writes the copy whole (server-side apply: a key left out is removed).
    pub async fn write(&self, kept: &Kept) -> Result<(), ProviderError> {
        let mut data = BTreeMap::new();
        for (key, value) in [(CURRENT_KEY, &kept.current), (PENDING_KEY, &kept.pending)] {
            if let Some(p) = value {
                data.insert(key.to_string(), ByteString(p.expose().as_bytes().to_vec()));
            }
        }
        if let Some(key) = &kept.key {
            data.insert(
                FINGERPRINT_KEY.to_string(),
                ByteString(hex::encode(&key.0).into_bytes()),
            );
        }
        let owner_name = self.owner.name.clone();
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                labels: Some(BTreeMap::from([(OWNED_LABEL.to_string(), owner_name)])),
                owner_references: Some(vec![self.owner.clone()]),
                ..ObjectMeta::default()
            },
            data: Some(data),
            type_: Some("Opaque".into()),
            ..Secret::default()
        };
        let mut value = serde_json::to_value(&secret).map_err(|e| ProviderError::Transient {
            message: format!("cannot encode Secret {}: {e}", self.name),
        })?;
        value["apiVersion"] = "v1".into();
        value["kind"] = "Secret".into();
        self.api
            .patch(
                &self.name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&value),
            )
            .await
            .map_err(|e| kube(&self.name, e))?;
        Ok(())
    }
}

/// A Kubernetes failure around coffer's copy. Transient: it leaves doubt,
/// so a marker around the call it belongs to stays until recovery decides.
fn kube(name: &str, e: kube::Error) -> ProviderError {
    ProviderError::Transient {
        message: format!(
            "could not read or write Secret {name} (coffer's copy of the passphrase): {e}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_passphrase() {
        let kept = Kept {
            current: Some(Passphrase::new("hunter2")),
            pending: None,
            key: Some(FingerprintKey::random()),
        };
        assert!(!format!("{kept:?}").contains("hunter2"));
    }

    #[test]
    fn fingerprints_differ_by_passphrase_and_by_key() {
        let (a, b) = (FingerprintKey::random(), FingerprintKey::random());
        let p = Passphrase::new("hunter2");
        assert_ne!(
            p.fingerprint(&a),
            Passphrase::new("hunter3").fingerprint(&a)
        );
        assert_ne!(p.fingerprint(&a), p.fingerprint(&b));
        assert_eq!(p.fingerprint(&a), p.fingerprint(&a.clone()));
        assert_eq!(p.fingerprint(&a).len(), 16);
        assert!(!format!("{a:?}").contains(&format!("{:?}", a.0)));
    }

    #[test]
    fn what_status_shows_cannot_be_checked_with_what_the_object_shows() {
        // Before keys, the fingerprint was salted with the uid, which any
        // reader of the BackupVault has: a guess could be tested offline.
        let p = Passphrase::new("hunter2");
        let key = FingerprintKey::random();
        let shown = p.fingerprint(&key);
        for uid in ["uid-1", ""] {
            assert_ne!(shown, p.legacy_fingerprint(uid));
        }
    }
}
