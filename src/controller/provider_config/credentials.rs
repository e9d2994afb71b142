//! Keeps a ProviderConfig's credential Secret while anything may still
//! need it to reach the cloud.
//!
//! Deleting a namespace deletes everything in it at the same moment: the
//! vaults, the ProviderConfig they name and the Secret it reads. The
//! ProviderConfig already waits for its users (its own finalizer); without
//! the same for the Secret, the vaults' finalizers would have a
//! ProviderConfig and no credentials. A session kept in memory covers that
//! only until the operator restarts, and a restart during a teardown is
//! exactly when it is lost. So the Secret carries a finalizer of coffer's
//! while a ProviderConfig that needs it exists, as the ProviderConfig
//! carries one while objects use it: the chain comes apart from the bottom
//! (the objects, then the ProviderConfig, then the Secret), whatever order
//! the deletions came in, and survives any restart because it lives in the
//! API server, not in coffer.
//!
//! The finalizer is added when a ProviderConfig is checked (never to a
//! Secret already being deleted: the API server refuses that), and removed
//! when no ProviderConfig needs the Secret any more: one that is deleted
//! and has no users left does not. That happens when such a ProviderConfig
//! lets go, and in a sweep every [`super::users::REFRESH`] for the cases no
//! reconcile sees (a ProviderConfig that moved to another Secret, or that
//! went while coffer was not running).

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::Api;

use crate::api::ProviderConfig;
use crate::controller::caches::Caches;
use crate::controller::context::Context;
use crate::controller::finalizing;

/// Held on a credential Secret while a ProviderConfig needs it.
pub const FINALIZER: &str = "coffer.dev/credentials-in-use";

/// Why the Secret's finalizer could not be added or removed.
#[derive(Debug, thiserror::Error)]
#[error("could not {operation} the finalizer {FINALIZER} of Secret {namespace}/{name}: {source}")]
pub struct HoldError {
    operation: &'static str,
    namespace: String,
    name: String,
    #[source]
    source: kube::Error,
}

/// Puts the finalizer on the Secret `pc` reads, unless it holds it, is
/// being deleted or is not in the cache (the check reports that). Answers
/// whether it wrote.
pub async fn hold(ctx: &Context, pc: &ProviderConfig) -> Result<bool, HoldError> {
    let (Some(namespace), Some(name)) = (pc.namespace(), pc.spec.secret_name()) else {
        return Ok(false);
    };
    let Some(secret) = ctx.caches.secret(&namespace, name) else {
        return Ok(false);
    };
    if holds(&secret) || secret.metadata.deletion_timestamp.is_some() {
        return Ok(false);
    }
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &namespace);
    let read_at = secret.metadata.resource_version.as_deref();
    finalizing::add_with(
        &api,
        FINALIZER,
        secret.as_ref(),
        read_at,
        &Default::default(),
    )
    .await
    .map_err(|source| HoldError {
        operation: "add",
        namespace: namespace.clone(),
        name: name.to_string(),
        source,
    })?;
    Ok(true)
}

/// Lets go of Secret `name` in `namespace` if no ProviderConfig needs it,
/// `leaving` (a ProviderConfig whose users are gone) aside.
pub async fn release_if_unneeded(
    ctx: &Context,
    configs: &[Arc<ProviderConfig>],
    namespace: &str,
    name: &str,
    leaving: Option<&ProviderConfig>,
) -> Result<(), HoldError> {
    let Some(secret) = ctx.caches.secret(namespace, name) else {
        return Ok(());
    };
    if !holds(&secret) || needed(&ctx.caches, configs, namespace, name, leaving) {
        return Ok(());
    }
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    finalizing::remove(&api, FINALIZER, secret.as_ref())
        .await
        .map_err(|source| HoldError {
            operation: "remove",
            namespace: namespace.to_string(),
            name: name.to_string(),
            source,
        })
}

/// Lets go of every cached Secret that holds the finalizer and that no
/// ProviderConfig needs. Runs until the process stops.
pub async fn keep_released(ctx: Arc<Context>) {
    // A ProviderConfig not listed yet must not look absent, nor a user.
    ctx.caches.wait_until_ready().await;
    let mut ticks = tokio::time::interval(super::users::REFRESH);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if !ctx.caches.users_ready(super::users::REFRESH).await {
            continue;
        }
        let all = ctx.caches.provider_configs();
        for secret in ctx.caches.secrets_holding(FINALIZER) {
            let namespace = secret.namespace().unwrap_or_default();
            let name = secret.name_any();
            if let Err(e) = release_if_unneeded(&ctx, &all, &namespace, &name, None).await {
                tracing::warn!(error = %e, "releasing a credential Secret");
            }
        }
    }
}

fn holds(secret: &Secret) -> bool {
    secret.finalizers().iter().any(|f| f == FINALIZER)
}

/// Whether a ProviderConfig other than `leaving` reads Secret `name` and
/// may still need it: it lives, or it is being deleted and still has users.
fn needed(
    caches: &Caches,
    configs: &[Arc<ProviderConfig>],
    namespace: &str,
    name: &str,
    leaving: Option<&ProviderConfig>,
) -> bool {
    configs
        .iter()
        .filter(|pc| pc.namespace().as_deref() == Some(namespace))
        .filter(|pc| pc.spec.secret_name() == Some(name))
        .filter(|pc| leaving.is_none_or(|l| l.uid() != pc.uid()))
        .any(|pc| {
            pc.metadata.deletion_timestamp.is_none()
                || !caches.users_of(namespace, &pc.name_any()).is_empty()
        })
}
