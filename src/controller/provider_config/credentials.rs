//! Keeps the objects a ProviderConfig or ClusterProviderConfig reads to
//! reach the cloud (its credential Secret, and the Secret or ConfigMap its
//! `caBundleRef` names) while anything may still need them.
//!
//! Deleting a namespace deletes everything in it at the same moment: the
//! vaults, the ProviderConfig they name and the objects it reads. The
//! ProviderConfig already waits for its users (its own finalizer); without
//! the same for what it reads, the vaults' finalizers would have a
//! ProviderConfig and no credentials, or no CA to trust the endpoint by. A
//! session kept in memory covers that only until the operator restarts,
//! and a restart during a teardown is exactly when it is lost. So each such
//! object carries a finalizer of coffer's while a ProviderConfig that needs
//! it exists, as the ProviderConfig carries one while objects use it: the
//! chain comes apart from the bottom (the objects, then the ProviderConfig,
//! then what it read), whatever order the deletions came in, and survives
//! any restart because it lives in the API server, not in coffer.
//!
//! The finalizer is added when a ProviderConfig is checked (never to an
//! object already being deleted: the API server refuses that), and removed
//! when no ProviderConfig needs the object any more: one that is deleted
//! and has no users left does not. That happens when such a ProviderConfig
//! lets go, and in a sweep every [`super::users::REFRESH`] for the cases no
//! reconcile sees (a ProviderConfig that moved to another object, or that
//! went while coffer was not running).

use std::fmt::Debug;
use std::sync::Arc;

use kube::api::Api;
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::api::ProviderConfigSpec;
use crate::api::provider_config::{CaBundleKind, CaSource};
use crate::controller::engine::{SessionKey, finalizing};
use crate::controller::env::Context;
use crate::controller::providers::Source;

/// Held on an object a ProviderConfig reads while it needs it. The name
/// predates CA bundles; it is kept so that objects held by an earlier
/// coffer are still let go.
pub const FINALIZER: &str = "coffer.dev/credentials-in-use";

/// The kinds of object a ProviderConfig reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Secret,
    ConfigMap,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Secret => "Secret",
            Self::ConfigMap => "ConfigMap",
        }
    }
}

/// An object, in the namespace a config reads its credentials from, that
/// it reads: its credential Secret or its `caBundleRef`. A Secret is one
/// object whether it holds credentials or a CA, so the two are not told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference<'a> {
    pub kind: Kind,
    pub name: &'a str,
}

/// What `spec` reads: its credential Secret, then its `caBundleRef`'s object.
pub fn references(spec: &ProviderConfigSpec) -> Vec<Reference<'_>> {
    let credentials = spec.secret_name().map(|name| Reference {
        kind: Kind::Secret,
        name,
    });
    let ca = match spec.ca_source() {
        CaSource::Ref(r) => Some(Reference {
            kind: match r.kind {
                CaBundleKind::Secret => Kind::Secret,
                CaBundleKind::ConfigMap => Kind::ConfigMap,
            },
            name: &r.name,
        }),
        CaSource::SystemRoots | CaSource::Inline(_) => None,
    };
    credentials.into_iter().chain(ca).collect()
}

/// A config of either kind as the holds see it: where it reads, what, and
/// whether it is on its way out.
#[derive(Clone, Debug)]
pub struct Reader {
    pub key: SessionKey,
    pub namespace: String,
    pub reads: Vec<(Kind, String)>,
    pub uid: Option<String>,
    pub deleting: bool,
}

impl Reader {
    pub fn of(source: &Source) -> Self {
        Self {
            key: source.key.clone(),
            namespace: source.namespace.clone(),
            reads: references(source.spec)
                .into_iter()
                .map(|r| (r.kind, r.name.to_string()))
                .collect(),
            uid: source.uid.clone(),
            deleting: source.deleting,
        }
    }

    fn reads(&self, namespace: &str, reference: Reference<'_>) -> bool {
        self.namespace == namespace
            && self
                .reads
                .iter()
                .any(|(kind, name)| *kind == reference.kind && name == reference.name)
    }
}

/// Every cached config of both kinds, as readers.
pub fn readers(ctx: &Context) -> Vec<Reader> {
    let caches = &ctx.env.caches;
    let namespaced = caches.provider_configs();
    let cluster = caches.cluster_provider_configs();
    let namespaced = namespaced
        .iter()
        .map(|pc| Reader::of(&Source::namespaced(pc)));
    let cluster = cluster
        .iter()
        .map(|cpc| Reader::of(&Source::cluster(cpc, caches.home())));
    namespaced.chain(cluster).collect()
}

/// Why an object's finalizer could not be added or removed.
#[derive(Debug, thiserror::Error)]
#[error("could not {operation} the finalizer {FINALIZER} of {kind} {namespace}/{name}: {source}")]
pub struct HoldError {
    operation: &'static str,
    kind: &'static str,
    namespace: String,
    name: String,
    #[source]
    source: kube::Error,
}

/// Puts the finalizer on every object `source` reads, but those that hold
/// it, are being deleted or are not in the cache (the check reports that).
pub async fn hold(ctx: &Context, source: &Source<'_>) -> Result<(), HoldError> {
    let namespace = source.namespace.as_str();
    for reference in references(source.spec) {
        match reference.kind {
            Kind::Secret => {
                let cached = ctx.env.caches.secret(namespace, reference.name);
                hold_one(ctx, namespace, reference, cached).await?;
            }
            Kind::ConfigMap => {
                let cached = ctx.env.caches.config_map(namespace, reference.name);
                hold_one(ctx, namespace, reference, cached).await?;
            }
        }
    }
    Ok(())
}

async fn hold_one<K>(
    ctx: &Context,
    namespace: &str,
    reference: Reference<'_>,
    cached: Option<Arc<K>>,
) -> Result<(), HoldError>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned,
{
    let Some(obj) = cached else {
        return Ok(());
    };
    if holds(obj.as_ref()) || obj.meta().deletion_timestamp.is_some() {
        return Ok(());
    }
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    let read_at = obj.meta().resource_version.as_deref();
    finalizing::add_with(&api, FINALIZER, obj.as_ref(), read_at, &Default::default())
        .await
        .map_err(|source| error("add", namespace, reference, source))
        .map(|_| ())
}

/// Lets go of every object `leaving` (whose users are gone) reads that no
/// other config needs.
pub async fn release(ctx: &Context, leaving: &Source<'_>) -> Result<(), HoldError> {
    let all = readers(ctx);
    let leaving = Reader::of(leaving);
    for (kind, name) in &leaving.reads {
        let reference = Reference { kind: *kind, name };
        release_if_unneeded(ctx, &all, &leaving.namespace, reference, Some(&leaving)).await?;
    }
    Ok(())
}

/// Lets go of `reference` in `namespace` if no config needs it, `leaving`
/// (a config whose users are gone) aside.
async fn release_if_unneeded(
    ctx: &Context,
    all: &[Reader],
    namespace: &str,
    reference: Reference<'_>,
    leaving: Option<&Reader>,
) -> Result<(), HoldError> {
    let has_users = |reader: &Reader| !ctx.env.caches.users_of(&reader.key).is_empty();
    if needed(all, namespace, reference, leaving, has_users) {
        return Ok(());
    }
    match reference.kind {
        Kind::Secret => {
            let cached = ctx.env.caches.secret(namespace, reference.name);
            release_one(ctx, namespace, reference, cached).await
        }
        Kind::ConfigMap => {
            let cached = ctx.env.caches.config_map(namespace, reference.name);
            release_one(ctx, namespace, reference, cached).await
        }
    }
}

async fn release_one<K>(
    ctx: &Context,
    namespace: &str,
    reference: Reference<'_>,
    cached: Option<Arc<K>>,
) -> Result<(), HoldError>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + Debug
        + DeserializeOwned,
{
    let Some(obj) = cached.filter(|o| holds(o.as_ref())) else {
        return Ok(());
    };
    let api: Api<K> = Api::namespaced(ctx.client.clone(), namespace);
    finalizing::remove(&api, FINALIZER, obj.as_ref())
        .await
        .map_err(|source| error("remove", namespace, reference, source))
}

/// Lets go of every cached Secret and ConfigMap that holds the finalizer
/// and that no config of either kind needs. Runs until the process stops.
pub async fn keep_released(ctx: Arc<Context>) {
    // A ProviderConfig not listed yet must not look absent, nor a user.
    ctx.env.caches.wait_until_ready().await;
    let mut ticks = tokio::time::interval(super::users::REFRESH);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if !ctx.env.caches.users_ready(super::users::REFRESH).await {
            continue;
        }
        let all = readers(&ctx);
        let secrets = ctx.env.caches.secrets_holding(FINALIZER);
        let config_maps = ctx.env.caches.config_maps_holding(FINALIZER);
        let held = secrets
            .iter()
            .map(|s| (Kind::Secret, s.metadata.clone()))
            .chain(
                config_maps
                    .iter()
                    .map(|c| (Kind::ConfigMap, c.metadata.clone())),
            );
        for (kind, meta) in held {
            let namespace = meta.namespace.unwrap_or_default();
            let name = meta.name.unwrap_or_default();
            let reference = Reference { kind, name: &name };
            if let Err(e) = release_if_unneeded(&ctx, &all, &namespace, reference, None).await {
                tracing::warn!(error = %e, "releasing an object a ProviderConfig read");
            }
        }
    }
}

fn holds<K: Resource>(obj: &K) -> bool {
    obj.finalizers().iter().any(|f| f == FINALIZER)
}

fn error(
    operation: &'static str,
    namespace: &str,
    reference: Reference<'_>,
    source: kube::Error,
) -> HoldError {
    HoldError {
        operation,
        kind: reference.kind.as_str(),
        namespace: namespace.to_string(),
        name: reference.name.to_string(),
        source,
    }
}

/// Whether a config other than `leaving` reads `reference` in `namespace`
/// and may still need it: it lives, or it is being deleted and still has
/// users (`has_users`).
fn needed(
    all: &[Reader],
    namespace: &str,
    reference: Reference<'_>,
    leaving: Option<&Reader>,
    has_users: impl Fn(&Reader) -> bool,
) -> bool {
    all.iter()
        .filter(|reader| reader.reads(namespace, reference))
        .filter(|reader| leaving.is_none_or(|l| l.key != reader.key))
        .any(|reader| !reader.deleting || has_users(reader))
}

#[cfg(test)]
#[path = "credentials_tests.rs"]
mod tests;
