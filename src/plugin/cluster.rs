//! What `kubectl coffer` reads from and writes to the cluster: the current
//! kubeconfig's client, every coffer object of one namespace or all, and
//! the two annotations it may set. Read rights suffice for everything but
//! [`annotate`].

use std::time::Duration;

use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

use super::fleet::KINDS;

/// What went wrong, in words a kubectl user acts on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("cannot list {plural}: {source}")]
    List {
        plural: &'static str,
        #[source]
        source: Box<kube::Error>,
    },
    #[error(
        "you may not change {kind} {namespace}/{name}: `kubectl coffer {verb}` sets an annotation, which needs `patch` on {plural} (the read commands need only get and list)"
    )]
    Forbidden {
        verb: &'static str,
        kind: &'static str,
        plural: &'static str,
        namespace: String,
        name: String,
    },
    #[error("{kind} {namespace}/{name} not found")]
    NotFound {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    #[error("cannot change {kind} {namespace}/{name}: {source}")]
    Patch {
        kind: &'static str,
        namespace: String,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error(
        "{kind} {namespace}/{name} did not answer the request within {waited:?}: is coffer running and leading? (status.lastHandledReconcileAt is {last:?})"
    )]
    NoAnswer {
        kind: &'static str,
        namespace: String,
        name: String,
        waited: Duration,
        last: Option<String>,
    },
    #[error("unknown kind {0:?}: use one of backupvault, backupshare, agency, providerconfig")]
    UnknownKind(String),
}

/// The current context's client and namespace, as kubectl would use them.
pub async fn connect(
    kubeconfig: Option<&str>,
    context: Option<&str>,
) -> Result<(kube::Client, String), Error> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path).map_err(|e| Error::Kubeconfig(e.to_string()))?;
            kube::Config::from_custom_kubeconfig(file, &options).await
        }
        None => kube::Config::from_kubeconfig(&options).await,
    }
    .map_err(|e| Error::Kubeconfig(e.to_string()))?;
    // Every call the plugin makes is a plain request, never a watch: none
    // may hang a terminal or a CI gate.
    let mut config = config;
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(30));
    config.write_timeout = Some(Duration::from_secs(30));
    let namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).map_err(|e| Error::Kubeconfig(e.to_string()))?;
    Ok((client, namespace))
}

fn resource(kind: &str, plural: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk("coffer.dev", "v1alpha1", kind);
    ApiResource::from_gvk_with_plural(&gvk, plural)
}

fn api(
    client: &kube::Client,
    namespace: Option<&str>,
    kind: &str,
    plural: &str,
) -> Api<DynamicObject> {
    let ar = resource(kind, plural);
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// Every coffer object in `namespace` (all when `None`), as (kind, JSON).
pub async fn objects(
    client: &kube::Client,
    namespace: Option<&str>,
) -> Result<Vec<(&'static str, Value)>, Error> {
    let mut all = Vec::new();
    for &(kind, plural) in KINDS {
        let list = api(client, namespace, kind, plural)
            .list(&ListParams::default())
            .await
            .map_err(|source| Error::List {
                plural,
                source: Box::new(source),
            })?;
        for obj in list.items {
            all.push((kind, serde_json::to_value(obj).unwrap_or_default()));
        }
    }
    Ok(all)
}

/// `KIND/NAME` → the kind and its plural. Accepts a kind's name, plural or
/// short name in any case.
pub fn kind_of(text: &str) -> Result<(&'static str, &'static str), Error> {
    let wanted = text.to_ascii_lowercase();
    KINDS
        .iter()
        .copied()
        .find(|(kind, plural)| {
            let short: String = kind.chars().filter(|c| c.is_ascii_uppercase()).collect();
            [
                kind.to_ascii_lowercase(),
                plural.to_string(),
                short.to_ascii_lowercase(),
            ]
            .contains(&wanted)
        })
        .ok_or_else(|| Error::UnknownKind(text.to_string()))
}

/// One object, by kind, namespace and name.
pub struct Target {
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespace: String,
    pub name: String,
}

/// Merge-patches `annotations` (a `null` value removes one) and waits,
/// at most `timeout`, until `status.lastHandledReconcileAt` is `token`.
/// Answers the object as it then is.
pub async fn annotate(
    client: &kube::Client,
    target: &Target,
    verb: &'static str,
    annotations: Value,
    token: &str,
    timeout: Duration,
) -> Result<Value, Error> {
    let api = api(client, Some(&target.namespace), target.kind, target.plural);
    let patch = serde_json::json!({"metadata": {"annotations": annotations}});
    let refused = |source: kube::Error| match &source {
        kube::Error::Api(s) if s.code == 403 => Error::Forbidden {
            verb,
            kind: target.kind,
            plural: target.plural,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        },
        kube::Error::Api(s) if s.code == 404 => Error::NotFound {
            kind: target.kind,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        },
        _ => Error::Patch {
            kind: target.kind,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
            source: Box::new(source),
        },
    };
    api.patch(&target.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(refused)?;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = None;
    loop {
        let obj = api.get(&target.name).await.map_err(refused)?;
        let value = serde_json::to_value(obj).unwrap_or_default();
        last = value["status"]["lastHandledReconcileAt"]
            .as_str()
            .map(str::to_string)
            .or(last);
        if last.as_deref() == Some(token) {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::NoAnswer {
                kind: target.kind,
                namespace: target.namespace.clone(),
                name: target.name.clone(),
                waited: timeout,
                last,
            });
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_named_as_kubectl_users_name_them() {
        for name in ["BackupVault", "backupvault", "backupvaults", "bv", "BV"] {
            assert_eq!(kind_of(name).expect(name).0, "BackupVault");
        }
        assert_eq!(kind_of("agencies").expect("plural").0, "Agency");
        assert_eq!(kind_of("pc").expect("short").0, "ProviderConfig");
        assert!(kind_of("vault").is_err());
    }
}
