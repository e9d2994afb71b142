//! The ProviderConfig controller: reads the Secret from the cache, checks
//! that it has every key the credential type needs, builds (or reuses) the
//! provider client, and makes one cheap authenticated call — once per change
//! of the ProviderConfig or its Secret, and at each drift check. `Ready`
//! names the problem, `users` counts the objects using it; status is written
//! only when it changes.
//!
//! A finalizer keeps a ProviderConfig that objects still use: deleting it
//! first would strand their finalizers, which need it to reach the cloud.
//! For the same reason its credential Secret, and the object its
//! `caBundleRef` names, are kept while it needs them ([`credentials`]).

pub mod credentials;
mod error;
pub mod report;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use super::engine::ReconcileError;
use super::engine::finalizing::{self, Step, When};
use super::engine::status;
use super::env::Context;
use crate::api::ProviderConfig;

pub use error::Error;

/// The kind, as metrics and per-object state name it.
pub const KIND: &str = "ProviderConfig";
/// Every condition reason a ProviderConfig shows, a fixed set for the
/// `reason` label of `coffer_objects_by_condition`: its own, and those of
/// reading its Secret and of the provider's answer.
pub const REASONS: &[&str] = &[
    report::VALID,
    report::DELETION_BLOCKED,
    "InUse",
    "InvalidObject",
    "KubernetesError",
    "ProviderConfigInvalid",
    "SecretNotFound",
    "SecretKeyMissing",
    "NotFound",
    "Conflict",
    "Throttled",
    "InvalidRequest",
    "Unauthorized",
    "ProviderUnavailable",
    "ListTooLarge",
    crate::controller::engine::error::DEADLINE_EXCEEDED,
    crate::provider::error::ENDPOINT_NOT_ALLOWED,
];
/// Held while objects use the ProviderConfig.
pub const FINALIZER: &str = "coffer.dev/provider-config-in-use";
/// How long a deleted ProviderConfig's reconcile waits for the users'
/// caches before it tries again later.
const USERS_READY: Duration = Duration::from_secs(5);

/// Reconciles one ProviderConfig.
pub async fn reconcile(pc: Arc<ProviderConfig>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.start(KIND);
    let result = with_finalizer(pc.clone(), &ctx).await;
    ctx.finish(KIND, pc.as_ref(), &result);
    result
}

async fn with_finalizer(pc: Arc<ProviderConfig>, ctx: &Context) -> Result<Action, Error> {
    let namespace = pc.namespace().ok_or(Error::NotNamespaced)?;
    let api: Api<ProviderConfig> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizing::run(&api, FINALIZER, When::First, pc, |event| async {
        match event {
            Step::Apply { obj: pc, .. } => check_and_report(&pc, ctx).await,
            Step::Cleanup(pc) => release(&pc, ctx).await,
        }
    })
    .await
}

/// Lets a deleted ProviderConfig go once nothing uses it; until then shows
/// who does, and is looked at again when one of them is deleted.
async fn release(pc: &ProviderConfig, ctx: &Context) -> Result<Action, Error> {
    let namespace = pc.namespace().ok_or(Error::NotNamespaced)?;
    // Right after a start the users' caches may still be empty; an empty
    // count then would let go of what objects still need.
    if !ctx.env.caches.users_ready(USERS_READY).await {
        return Err(Error::InUse {
            users: "objects not counted yet (coffer's caches are filling)".into(),
        });
    }
    let users = ctx.env.caches.users_of(&namespace, &pc.name_any());
    if users.is_empty() {
        // What it reads first: once this finalizer is gone, nothing would.
        let configs = ctx.env.caches.provider_configs();
        credentials::release(ctx, &configs, pc).await?;
        ctx.forget(KIND, pc);
        return Ok(Action::await_change());
    }
    let current = pc.status.clone().unwrap_or_default();
    let desired = report::in_use(&current, pc.meta().generation, users, Timestamp::now());
    let notes = report::transition_notes(&current.conditions, &desired.conditions);
    let api: Api<ProviderConfig> = Api::namespaced(ctx.client.clone(), &namespace);
    status::write_if_changed(&api, pc, None, Some(&current), &desired)
        .await
        .map_err(Error::Status)?;
    for note in notes {
        ctx.events.publish(&pc.object_ref(&()), note).await;
    }
    Err(Error::InUse {
        users: report::describe_users(&desired.users),
    })
}

/// When to look at a ProviderConfig again after a failed check.
pub fn error_policy(pc: Arc<ProviderConfig>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.retry(KIND, pc.as_ref(), error)
        .unwrap_or_else(|| ctx.resync())
}

async fn check_and_report(pc: &ProviderConfig, ctx: &Context) -> Result<Action, Error> {
    let namespace = pc.namespace().ok_or(Error::NotNamespaced)?;
    // The finalizer changes only the Secret's metadata: the session is
    // keyed by the Secret's content, and the watch event wakes no one, so
    // the check goes on at once.
    credentials::hold(ctx, pc).await?;
    let checked = check(pc, ctx).await;
    let current = pc.status.clone().unwrap_or_default();
    // A provider hiccup is retried quietly, as for every other kind: the
    // status stays as it is until the failure persists.
    let quiet = checked.as_ref().err().is_some_and(|e| {
        !e.is_config_problem() && e.is_retryable() && !ctx.failure_persists(KIND, pc)
    });
    let mut desired = match quiet {
        true => current.clone(),
        false => report::status(
            &current,
            pc.meta().generation,
            checked.as_ref().err(),
            Timestamp::now(),
        ),
    };
    // Counted from full caches only: right after a start (or a takeover)
    // an empty cache would write a wrong count, then the right one.
    ctx.env.caches.users_filled().await;
    desired.users = ctx.env.caches.users_of(&namespace, &pc.name_any());
    let notes = report::transition_notes(&current.conditions, &desired.conditions);
    let api: Api<ProviderConfig> = Api::namespaced(ctx.client.clone(), &namespace);
    let written = status::write_if_changed(&api, pc, None, Some(&current), &desired)
        .await
        .map_err(Error::Status);
    for note in notes {
        ctx.events.publish(&pc.object_ref(&()), note).await;
    }
    checked?;
    written?;
    Ok(ctx.resync())
}

/// Builds the client from the cached Secret and asks the provider whether it
/// accepts the credentials.
/// Checks the credentials, within the reconcile deadline: an endpoint that
/// accepts and never answers must not hold the reconcile for longer.
async fn check(pc: &ProviderConfig, ctx: &Context) -> Result<(), Error> {
    let session = ctx.env.providers.session_for(&ctx.env.caches, pc)?;
    let after = ctx.timing.reconcile_deadline;
    match tokio::time::timeout(after, session.check_credentials()).await {
        Ok(checked) => checked.map_err(Error::Provider),
        Err(_) => Err(Error::DeadlineExceeded { after }),
    }
}
