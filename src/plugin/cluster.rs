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

use super::fleet::{KINDS, Kind};

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
    #[error(
        "unknown kind {0:?}: use one of backupvault, backupshare, agency, providerconfig, clusterproviderconfig"
    )]
    UnknownKind(String),
    #[error(
        "this cluster does not serve {plural}.coffer.dev: its CRD is not installed (an older coffer?)"
    )]
    NotInstalled { plural: &'static str },
    #[error("{0} not found: nothing to trace")]
    Missing(String),
    #[error("cannot read {what}: {right}")]
    Refused { what: String, right: String },
    #[error("cannot parse {0} as the API server sent it")]
    Unparsable(String),
    #[error("cannot read {what}: {source}")]
    Read {
        what: String,
        #[source]
        source: Box<kube::Error>,
    },
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

fn resource(kind: Kind) -> ApiResource {
    let gvk = GroupVersionKind::gvk("coffer.dev", "v1alpha1", kind.name);
    ApiResource::from_gvk_with_plural(&gvk, kind.plural)
}

/// `kind`'s objects in `namespace`, or in all when `None`; a cluster-scoped
/// kind ignores the namespace.
pub fn api(client: &kube::Client, namespace: Option<&str>, kind: Kind) -> Api<DynamicObject> {
    let ar = resource(kind);
    match namespace.filter(|_| !kind.cluster_scoped) {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// The API server's answer was this HTTP code.
pub fn is_code(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// Every coffer object in `namespace` (all when `None`, cluster-scoped
/// ones too), as (kind, JSON).
pub async fn objects(
    client: &kube::Client,
    namespace: Option<&str>,
) -> Result<Vec<(&'static str, Value)>, Error> {
    let mut all = Vec::new();
    for &kind in KINDS {
        // A namespace's fleet is what lives in it: the cluster's shared
        // configs belong to no namespace, and listing them all under `-n`
        // would mix other teams' into its counts. `-A` shows them.
        if kind.cluster_scoped && namespace.is_some() {
            continue;
        }
        let list = match api(client, namespace, kind)
            .list(&ListParams::default())
            .await
        {
            Ok(list) => list,
            // See [`Kind::cluster_scoped`]: no CRD (404) or no right (403).
            Err(e) if kind.cluster_scoped && (is_code(&e, 404) || is_code(&e, 403)) => continue,
            Err(source) => {
                return Err(Error::List {
                    plural: kind.plural,
                    source: Box::new(source),
                });
            }
        };
        for obj in list.items {
            all.push((kind.name, serde_json::to_value(obj).unwrap_or_default()));
        }
    }
    Ok(all)
}

/// `KIND/NAME` → the kind and its plural. Accepts a kind's name, plural or
/// short name in any case.
pub fn kind_of(text: &str) -> Result<Kind, Error> {
    let wanted = text.to_ascii_lowercase();
    KINDS
        .iter()
        .copied()
        .find(|kind| {
            let short: String = kind
                .name
                .chars()
                .filter(|c| c.is_ascii_uppercase())
                .collect();
            [
                kind.name.to_ascii_lowercase(),
                kind.plural.to_string(),
                short.to_ascii_lowercase(),
            ]
            .contains(&wanted)
        })
        .ok_or_else(|| Error::UnknownKind(text.to_string()))
}

/// One object, by kind, namespace and name.
pub struct Target {
    pub kind: Kind,
    /// Ignored for a cluster-scoped kind.
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
    let api = api(client, Some(&target.namespace), target.kind);
    let patch = serde_json::json!({"metadata": {"annotations": annotations}});
    let refused = |source: kube::Error| match &source {
        kube::Error::Api(s) if s.code == 403 => Error::Forbidden {
            verb,
            kind: target.kind.name,
            plural: target.kind.plural,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        },
        kube::Error::Api(s) if s.code == 404 => Error::NotFound {
            kind: target.kind.name,
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        },
        _ => Error::Patch {
            kind: target.kind.name,
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
                kind: target.kind.name,
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
            assert_eq!(kind_of(name).expect(name).name, "BackupVault");
        }
        assert_eq!(kind_of("agencies").expect("plural").name, "Agency");
        assert_eq!(kind_of("pc").expect("short").name, "ProviderConfig");
        let cpc = kind_of("cpc").expect("short");
        assert_eq!(
            (cpc.name, cpc.cluster_scoped),
            ("ClusterProviderConfig", true)
        );
        assert!(kind_of("vault").is_err());
    }
}
