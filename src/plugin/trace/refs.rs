//! Which objects a coffer object points at, read from its JSON: its config
//! (a ProviderConfig, or a ClusterProviderConfig by `providerConfigRef.kind`),
//! that config's credentials Secret and CA bundle, a BackupShare's other
//! side and a receiver's vault. Pure, so [`super::fetch`] knows what to read
//! and the tests need no cluster.

use serde_json::Value;

use crate::plugin::fleet::is_config;

/// An object the tree points at, by kind, namespace and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    pub kind: String,
    /// `None` for a cluster-scoped object.
    pub namespace: Option<String>,
    pub name: String,
}

/// Where a config's CAs come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ca {
    SystemRoots,
    Inline,
    /// `caBundleRef`: the object (a Secret or ConfigMap) and its key.
    Ref(Ref, String),
}

const CLOUDS: [&str; 3] = ["huaweiCloud", "rackspace", "commvault"];

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

/// `obj` itself, as a reference.
pub(super) fn ref_of(kind: &str, obj: &Value) -> Ref {
    Ref {
        kind: kind.to_string(),
        namespace: text(&obj["metadata"]["namespace"]),
        name: text(&obj["metadata"]["name"]).unwrap_or_default(),
    }
}

/// The config `obj` names: `spec.providerConfigRef`, whose `kind` left out
/// means a ProviderConfig in the object's namespace. `None` for a config.
pub fn config_ref(kind: &str, obj: &Value) -> Option<Ref> {
    if is_config(kind) {
        return None;
    }
    let reference = &obj["spec"]["providerConfigRef"];
    let name = text(&reference["name"])?;
    Some(match reference["kind"].as_str() {
        Some("ClusterProviderConfig") => Ref {
            kind: "ClusterProviderConfig".into(),
            namespace: None,
            name,
        },
        _ => Ref {
            kind: "ProviderConfig".into(),
            namespace: text(&obj["metadata"]["namespace"]),
            name,
        },
    })
}

/// The provider block a config sets, and its name.
pub(super) fn cloud_block(config: &Value) -> Option<(&'static str, &Value)> {
    CLOUDS
        .iter()
        .find(|c| config["spec"][**c].is_object())
        .map(|c| (*c, &config["spec"][*c]))
}

/// The namespace a config's Secrets are read from: a ProviderConfig's own;
/// a ClusterProviderConfig's `spec.credentialsNamespace`, else the one coffer
/// resolved into `status.credentialsNamespace`.
fn credentials_namespace(kind: &str, config: &Value) -> Option<String> {
    match kind {
        "ClusterProviderConfig" => text(&config["spec"]["credentialsNamespace"])
            .or_else(|| text(&config["status"]["credentialsNamespace"])),
        _ => text(&config["metadata"]["namespace"]),
    }
}

/// The credentials Secret of `config` (of `kind`), or why it is not known.
pub fn secret_ref(kind: &str, config: &Value) -> Result<Ref, String> {
    let (cloud, block) = cloud_block(config)
        .ok_or("the config sets no provider block (huaweiCloud, rackspace or commvault)")?;
    let name = text(&block["credentials"]["secretRef"]["name"])
        .ok_or_else(|| format!("{cloud}.credentials.secretRef.name is not set"))?;
    let namespace = credentials_namespace(kind, config).ok_or(
        "neither spec.credentialsNamespace nor status.credentialsNamespace is set: coffer has not resolved where its Secret lives yet",
    )?;
    Ok(Ref {
        kind: "Secret".into(),
        namespace: Some(namespace),
        name,
    })
}

/// Where `config`'s CAs come from. A referenced bundle lives beside the
/// credentials Secret.
pub fn ca_of(kind: &str, config: &Value) -> Ca {
    let Some((_, block)) = cloud_block(config) else {
        return Ca::SystemRoots;
    };
    if block["caBundle"].is_string() {
        return Ca::Inline;
    }
    let reference = &block["caBundleRef"];
    match (text(&reference["kind"]), text(&reference["name"])) {
        (Some(kind_), Some(name)) => Ca::Ref(
            Ref {
                kind: kind_,
                namespace: credentials_namespace(kind, config),
                name,
            },
            text(&reference["key"]).unwrap_or_default(),
        ),
        _ => Ca::SystemRoots,
    }
}

/// The other side of a BackupShare among `shares`, as the controller pairs
/// them: by the backup id, an owner's receivers and a receiver's owners.
pub fn other_side<'a>(share: &Value, shares: &'a [Value]) -> Vec<&'a Value> {
    let (own, other) = match share["spec"]["owner"].is_object() {
        true => ("owner", "receiver"),
        false => ("receiver", "owner"),
    };
    let Some(backup) = share["spec"][own]["backupId"].as_str() else {
        return Vec::new();
    };
    shares
        .iter()
        .filter(|s| s["spec"][other]["backupId"].as_str() == Some(backup))
        .collect()
}

/// A receiver's `vaultRef`, a BackupVault in its namespace.
pub fn vault_ref(share: &Value) -> Option<Ref> {
    Some(Ref {
        kind: "BackupVault".into(),
        namespace: text(&share["metadata"]["namespace"]),
        name: text(&share["spec"]["receiver"]["vaultRef"]["name"])?,
    })
}
