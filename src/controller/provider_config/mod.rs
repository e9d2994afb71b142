//! The controller of ProviderConfigs and ClusterProviderConfigs ([`Config`]):
//! reads the Secret from the cache, checks that it has every key the
//! credential type needs, builds (or reuses) the provider client, and makes
//! one cheap authenticated call — once per change of the config or its
//! Secret, and at each drift check. `Ready` names the problem, `users`
//! counts the objects using it; status is written only when it changes.
//!
//! A finalizer keeps a ProviderConfig that objects still use: deleting it
//! first would strand their finalizers, which need it to reach the cloud.
//! For the same reason its credential Secret, and the object its
//! `caBundleRef` names, are kept while it needs them ([`credentials`]).

mod config;
pub mod credentials;
mod error;
mod reasons;
pub mod report;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube::runtime::controller::Action;

use super::engine::ReconcileError;
use super::engine::finalizing::{self, Step, When};
use super::engine::status;
use super::env::Context;
use super::providers::Source;

pub use config::Config;
pub use error::Error;

/// The kind, as metrics and per-object state name it.
pub const KIND: &str = "ProviderConfig";
/// Every condition reason a ProviderConfig shows, with what each means:
/// a fixed set for the `reason` label of `coffer_objects_by_condition`.
pub use reasons::REASONS;

/// Held while objects use the ProviderConfig.
pub const FINALIZER: &str = "coffer.dev/provider-config-in-use";
/// How long a deleted ProviderConfig's reconcile waits for the users'
/// caches before it tries again later.
const USERS_READY: Duration = Duration::from_secs(5);

/// Reconciles one ProviderConfig or ClusterProviderConfig.
pub async fn reconcile<C: Config>(pc: Arc<C>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.start(C::KIND);
    let result = with_finalizer(pc.clone(), &ctx).await;
    ctx.finish(C::KIND, pc.as_ref(), &result);
    result
}

async fn with_finalizer<C: Config>(pc: Arc<C>, ctx: &Context) -> Result<Action, Error> {
    let api = pc.api(ctx.client.clone());
    finalizing::run(&api, FINALIZER, When::First, pc, |event| async {
        match event {
            Step::Apply { obj: pc, .. } => check_and_report(pc.as_ref(), ctx).await,
            Step::Cleanup(pc) => release(pc.as_ref(), ctx).await,
        }
    })
    .await
}

/// Lets a deleted config go once nothing uses it; until then shows who
/// does, and is looked at again when one of them is deleted.
async fn release<C: Config>(pc: &C, ctx: &Context) -> Result<Action, Error> {
    // Right after a start the users' caches may still be empty; an empty
    // count then would let go of what objects still need.
    if !ctx.env.caches.users_ready(USERS_READY).await {
        return Err(Error::InUse {
            users: "objects not counted yet (coffer's caches are filling)".into(),
        });
    }
    let source = pc.source(ctx.env.caches.home());
    let users = ctx.env.caches.users_of(&source.key);
    if users.is_empty() {
        // What it reads first: once this finalizer is gone, nothing would.
        credentials::release(ctx, &source).await?;
        ctx.forget(C::KIND, pc);
        return Ok(Action::await_change());
    }
    let current = pc.config_status().cloned().unwrap_or_default();
    let desired = report::in_use(&current, pc.meta().generation, users, Timestamp::now());
    let notes = report::transition_notes(&current.conditions, &desired.conditions);
    let api = pc.api(ctx.client.clone());
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

/// When to look at a config again after a failed check.
pub fn error_policy<C: Config>(pc: Arc<C>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.retry(C::KIND, pc.as_ref(), error)
        .unwrap_or_else(|| ctx.resync())
}

async fn check_and_report<C: Config>(pc: &C, ctx: &Context) -> Result<Action, Error> {
    let home = ctx.env.caches.home();
    let source = pc.source(home);
    // The finalizer changes only the Secret's metadata: the session is
    // keyed by the Secret's content, and the watch event wakes no one, so
    // the check goes on at once.
    credentials::hold(ctx, &source).await?;
    let checked = check(&source, ctx).await;
    let current = pc.config_status().cloned().unwrap_or_default();
    // A provider hiccup is retried quietly, as for every other kind: the
    // status stays as it is until the failure persists.
    let quiet = checked.as_ref().err().is_some_and(|e| {
        !e.is_config_problem() && e.is_retryable() && !ctx.failure_persists(C::KIND, pc)
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
    // a cache still filling would write a wrong count, then the right one.
    // Until they are full the count written stays; once they are,
    // `users::keep_current` wakes the config if its count moved (at 30,000
    // objects a relist outlasted the wait, and a takeover wrote twice).
    let counted = ctx.env.caches.users_ready(USERS_READY).await;
    desired.users = match counted {
        true => ctx.env.caches.users_of(&source.key),
        false => current.users.clone(),
    };
    desired.credentials_namespace = pc.credentials_namespace(home);
    let notes = report::transition_notes(&current.conditions, &desired.conditions);
    let api = pc.api(ctx.client.clone());
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
async fn check(source: &Source<'_>, ctx: &Context) -> Result<(), Error> {
    let session = ctx.env.providers.session_for(&ctx.env.caches, source)?;
    session.check_credentials().await.map_err(Error::Provider)
}
