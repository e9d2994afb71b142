//! One reconcile of one object, for any (kind, cloud) pair: observe → plan →
//! act → report. The pair answers the cloud questions; this file decides
//! everything else — what may be called under the object's policy, when a
//! create is safe, what is recorded at once, what is shown, and when to
//! look again.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;

use super::context::{Context, ReconcileError};
use super::error::Error;
use super::events::{Note, reason};
use super::external::{External, Health, Managed, Plan, Tone};
use super::policy::Policy;
use super::report::{self, Outcome, PlanView};
use super::status;
use crate::api::conditions::{self, SYNCED};
use crate::api::managed::{CallPending, CreatePending, InFlightCall, ManagedStatus};

#[path = "run_delete.rs"]
mod delete;
#[path = "run_observe.rs"]
mod observe;
#[path = "run_once.rs"]
mod once;
#[path = "run_writes.rs"]
mod writes;
use once::withhold;
use writes::create_pending;

/// What a reconcile has learned so far; reported whether it ends well or not.
struct Progress<A> {
    external_id: Option<String>,
    observed: Option<(A, Health)>,
    plan: Option<PlanView>,
    in_flight: Vec<InFlightCall>,
    create_pending: Option<CreatePending>,
    call_pending: Option<CallPending>,
    /// When the cloud object's delete started (see `ManagedStatus::delete_started`).
    delete_started: Option<String>,
    /// The pair's wish to look again before the drift check.
    recheck: Option<std::time::Duration>,
    /// The observation came from a provider listing, not a read by id.
    listed: bool,
}

/// How a reconcile reads the cloud object it knows the id of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Read {
    /// From the pair's recent listing when it answers (a drift check).
    Listing,
    /// By id: before anything is decided that writes.
    Direct,
}

/// How far one pass of [`Run::sync`] got.
enum Pass {
    Done(Action),
    /// The observation came from a listing and a write would follow from it.
    ReadAgain,
}

impl<A> Progress<A> {
    fn of<K: Managed>(obj: &K, status: &ManagedStatus<A>) -> Self {
        Self {
            external_id: status.external_id.clone(),
            observed: None,
            plan: None,
            in_flight: status.in_flight.clone(),
            create_pending: create_pending(obj, status),
            call_pending: status.call_pending.clone(),
            delete_started: status.delete_started.clone(),
            recheck: None,
            listed: false,
        }
    }
}

/// One reconcile of one object.
pub struct Run<'a, K: Managed, E> {
    ctx: &'a Context<E>,
    api: &'a Api<K>,
    obj: &'a K,
    policy: Policy,
    /// The finalizer was not there when this reconcile started: coffer has
    /// created nothing for this object yet (see `finalizing`).
    fresh: bool,
    /// The object holds the finalizer; if not, [`Run::hold`] adds it
    /// before anything is made or recorded (`finalizing::When::WithTheCreate`).
    held: bool,
    /// The resourceVersion a fenced write must find: the object's, or that
    /// of this reconcile's own last write.
    resource_version: Option<String>,
    /// The versions this reconcile's writes replaced (see `own_writes`).
    superseded: Vec<String>,
    /// The status as last written, starting from the object's.
    status: ManagedStatus<K::AtProvider>,
    /// Events of what this reconcile did, held until a status write that
    /// records it lands (see [`Run::publish`]).
    notes: Vec<Note>,
}

impl<'a, K: Managed, E> Run<'a, K, E> {
    pub fn new(ctx: &'a Context<E>, api: &'a Api<K>, obj: &'a K, policy: Policy) -> Self {
        Self {
            ctx,
            api,
            obj,
            policy,
            fresh: false,
            held: obj.finalizers().iter().any(|f| f == K::FINALIZER),
            resource_version: obj.resource_version(),
            superseded: Vec::new(),
            status: obj.managed_status().cloned().unwrap_or_default(),
            notes: Vec::new(),
        }
    }

    /// Marks the object as new to coffer: its finalizer was just added.
    pub fn fresh(mut self, fresh: bool) -> Self {
        self.fresh = fresh;
        self
    }

    /// Makes the cloud object match the spec, as far as the policy allows.
    pub async fn apply<P: External<Kind = K, Env = E>>(mut self) -> Result<Action, Error> {
        let mut progress = Progress::of(self.obj, &self.status);
        if self.policy.paused {
            self.report(&progress, None, false).await?;
            return Ok(Action::await_change());
        }
        let deadline = self.ctx.timing.reconcile_deadline;
        let result = within_deadline(deadline, self.sync::<P>(&mut progress)).await;
        let reported = self.report(&progress, result.as_ref().err(), false).await;
        let result = result.and_then(|action| reported.map(|()| action));
        self.remember();
        result
    }

    /// Observe, plan, act. A drift check observes from the pair's listing;
    /// no write is decided on a listing, so when the plan (or a pending
    /// call) would write, the object is read by id and planned again.
    async fn sync<P: External<Kind = K, Env = E>>(
        &mut self,
        progress: &mut Progress<K::AtProvider>,
    ) -> Result<Action, Error> {
        let ext = P::connect(self.obj, self.ctx)?;
        let mut how = Read::Listing;
        loop {
            // A pass that read by id never asks for another.
            match self.sync_pass(&ext, progress, how).await? {
                Pass::Done(action) => return Ok(action),
                Pass::ReadAgain => how = Read::Direct,
            }
        }
    }

    /// One pass of [`Run::sync`], observing as `how` says.
    async fn sync_pass<P: External<Kind = K, Env = E>>(
        &mut self,
        ext: &P,
        progress: &mut Progress<K::AtProvider>,
        how: Read,
    ) -> Result<Pass, Error> {
        let mut observed = match self.observe(ext, progress, how).await? {
            Some(observed) => {
                self.hold(None).await?;
                observed
            }
            None if self.policy.observe_only() => {
                progress.plan = Some(PlanView {
                    calls: vec![ext.planned_create()],
                    ..PlanView::default()
                });
                return Ok(Pass::Done(self.resync()));
            }
            None => self.create(ext, progress).await?,
        };
        let id = P::id(&observed);
        let health = ext.health(&observed);
        progress.external_id = Some(id.clone());
        // Found, however: no create is pending any more.
        progress.create_pending = None;
        progress.observed = Some((ext.at_provider(&observed), health.clone()));
        if health.is_going() {
            // Deleted outside coffer and on its way out: recreate once it is gone.
            return Ok(Pass::Done(self.ctx.poll()));
        }
        if progress.call_pending.is_some() {
            if progress.listed {
                return Ok(Pass::ReadAgain);
            }
            observed = self.recover(ext, &id, observed, progress).await?;
        }

        let now = Timestamp::now();
        let settle = SignedDuration::try_from(self.ctx.timing.settle_time)
            .unwrap_or(SignedDuration::from_mins(2));
        progress
            .in_flight
            .retain(|f| now.duration_since(f.since.0) < settle && !ext.settled(&observed, &f.call));
        let mut in_flight: BTreeSet<String> =
            progress.in_flight.iter().map(|f| f.call.clone()).collect();
        in_flight.extend(progress.call_pending.iter().map(|p| p.call.clone()));
        let mut plan = ext.plan(&observed, &in_flight);
        progress.recheck = ext.recheck(&observed);
        if let Some(pending) = &progress.call_pending {
            withhold(ext, &mut plan, pending);
        }
        let view = view_of(ext, &plan);
        progress.plan = Some(view.clone());
        if self.policy.observe_only() || plan.calls.is_empty() {
            return Ok(Pass::Done(self.next(progress)));
        }
        if progress.listed {
            return Ok(Pass::ReadAgain);
        }

        let drift = self.was_in_sync();
        let mut awaiting = Vec::new();
        for (done, call) in plan.calls.iter().enumerate() {
            let once = ext.once_only(call);
            if let Some(key) = &once {
                self.fence_call(progress, key).await?;
            }
            match ext.call(&id, call).await {
                Ok(updated) => {
                    for note in ext.notes_after(&id, call) {
                        self.publish(note).await;
                    }
                    if let Some(updated) = updated {
                        let health = ext.health(&updated);
                        progress.observed = Some((ext.at_provider(&updated), health));
                    }
                    if once.is_some() {
                        // Its answer is recorded before anything else can fail.
                        progress.call_pending = None;
                        self.report(progress, None, false).await?;
                    }
                    for key in ext.awaits(call) {
                        progress.in_flight.push(InFlightCall {
                            call: key.clone(),
                            since: Time(now),
                        });
                        awaiting.push(key);
                    }
                }
                Err(e) => {
                    // Only an answer that proves nothing was done lifts the marker.
                    if once.is_some() && !e.leaves_doubt() {
                        progress.call_pending = None;
                    }
                    // Show what is still to do: the calls from the failed one on.
                    if let Some(view) = progress.plan.as_mut() {
                        view.calls.drain(..done);
                    }
                    let operation = format!("{} {}", view.calls[done].operation, K::NOUN);
                    return Err(Error::provider(operation)(e));
                }
            }
        }
        progress.plan = Some(view.clone().acted(awaiting));
        let (event, action) = if drift {
            (reason::DRIFT_CORRECTED, "drift_correct")
        } else {
            (reason::UPDATED, "update")
        };
        self.ctx.metrics.acted(K::KIND, action);
        self.publish(Note::normal(event, "Update", view.summary()))
            .await;
        Ok(Pass::Done(self.next(progress)))
    }

    /// Creates the object and records its id at once, before anything else
    /// can fail. Where the cloud cannot find a lost create by tag, a
    /// create-pending marker is written first, fenced by resourceVersion,
    /// so that two writers cannot both start a create.
    async fn create<P: External<Kind = K, Env = E>>(
        &mut self,
        ext: &P,
        progress: &mut Progress<K::AtProvider>,
    ) -> Result<P::Observed, Error> {
        if P::LOOKUP.needs_marker() {
            let marker = CreatePending {
                since: Timestamp::now().to_string(),
            };
            match self.held {
                true => {
                    let set = |s: &mut ManagedStatus<K::AtProvider>| {
                        s.create_pending = Some(marker.clone())
                    };
                    self.fence(set, "record that a create is starting").await?;
                }
                false => self.hold(Some(&marker)).await?,
            }
            progress.create_pending = Some(marker);
        }
        self.hold(None).await?;
        let created = match ext.create().await {
            Ok(created) => created,
            Err(e) => {
                // Only an answer that proves nothing was made lifts the marker.
                if !e.leaves_doubt() {
                    progress.create_pending = None;
                }
                return Err(Error::provider(format!("create the {}", K::NOUN))(e));
            }
        };
        let id = P::id(&created.observed);
        let now = Time(Timestamp::now());
        progress.external_id = Some(id.clone());
        progress.create_pending = None;
        progress.observed = Some((
            ext.at_provider(&created.observed),
            ext.health(&created.observed),
        ));
        progress
            .in_flight
            .extend(created.awaiting.iter().map(|key| InFlightCall {
                call: key.clone(),
                since: now.clone(),
            }));
        let in_flight: BTreeSet<String> = created.awaiting.iter().cloned().collect();
        progress.plan = Some(view_of(ext, &ext.plan(&created.observed, &in_flight)));
        self.ctx.metrics.acted(K::KIND, "create");
        // Held until the status that records the id lands, by this report.
        self.publish(Note::normal(
            reason::CREATED,
            "Create",
            format!("created {} {id}", K::NOUN),
        ))
        .await;
        self.report(progress, None, false).await?;
        Ok(created.observed)
    }

    /// Writes the status `progress` and `error` amount to, if it changed,
    /// and publishes the Events its condition transitions deserve. A
    /// retryable error is shown only once it has lasted the failure grace.
    async fn report(
        &mut self,
        progress: &Progress<K::AtProvider>,
        error: Option<&Error>,
        cleanup: bool,
    ) -> Result<(), Error> {
        let retryable = error.is_some_and(|e| e.is_retryable());
        let quiet = retryable && !self.failure_persists();
        let outcome = Outcome {
            external_id: progress.external_id.as_deref(),
            observed: progress.observed.as_ref().map(|(a, h)| (a, h)),
            plan: progress.plan.as_ref(),
            in_flight: &progress.in_flight,
            create_pending: progress.create_pending.as_ref(),
            call_pending: progress.call_pending.as_ref(),
            delete_started: progress.delete_started.as_deref(),
            error,
            quiet,
            retrying: retryable.then(|| self.ctx.backoff.ceiling()),
            cleanup,
            paused: self.policy.paused,
            observe_only: self.policy.observe_only(),
            requested_at: self.policy.requested_at.as_deref(),
            noun: K::NOUN,
        };
        let generation = self.obj.meta().generation;
        let desired = report::status(&self.status, generation, &outcome, Timestamp::now());
        let tone = match &progress.observed {
            Some((_, health)) => health.tone(),
            None => Tone::Trouble,
        };
        let notes =
            report::transition_notes(K::NOUN, &self.status.conditions, &desired.conditions, tone);
        // Fenced: a status computed from a cached object that is behind
        // (another writer's change, or this process's own write the watch
        // has not brought back yet) must not replace a newer one; that
        // could drop a recorded id or a create-pending marker. A 409 is
        // retried on a fresh read.
        let fence = self.resource_version.clone();
        let written = status::write_if_changed(
            self.api,
            self.obj,
            fence.as_deref(),
            Some(&self.status),
            &desired,
        )
        .await
        .map_err(Error::kube("write the status"))?;
        if let Some(written) = written {
            self.wrote(&written);
        }
        self.status = desired;
        self.notes.extend(notes);
        self.release().await;
        Ok(())
    }

    fn failure_persists(&self) -> bool {
        self.ctx.failure_persists(K::KIND, self.obj)
    }

    /// Whether the last reconcile left the object matching this very spec,
    /// so that a difference now was made outside coffer.
    fn was_in_sync(&self) -> bool {
        conditions::find(&self.status.conditions, SYNCED).is_some_and(|c| {
            c.status == "True" && c.observed_generation == self.obj.meta().generation
        })
    }

    /// Poll while the provider is still settling something, else resync.
    fn next(&self, progress: &Progress<K::AtProvider>) -> Action {
        let settling = !progress.in_flight.is_empty()
            || progress
                .plan
                .as_ref()
                .is_some_and(|p| !p.awaiting.is_empty());
        match (settling, progress.recheck) {
            (true, _) => self.ctx.poll(),
            (false, Some(after)) => Action::requeue(super::backoff::jittered(after)),
            (false, None) => self.resync(),
        }
    }

    /// Nothing to do before the next drift check, which the resync sweep
    /// brings at the object's own poll interval, else the operator's.
    fn resync(&self) -> Action {
        Action::await_change()
    }

    fn why_kept(&self) -> &'static str {
        match self.policy.observe_only() {
            true => "managementPolicy ObserveOnly",
            false => "deletionPolicy Orphan",
        }
    }

    /// Holds `note` until this reconcile's next status write lands (or
    /// proves needless): a write refused as stale means the reconcile
    /// acted on an old view and is redone, and its Events (an `Adopted`
    /// the redo repeats) would tell of what is not recorded. Dropped with
    /// the reconcile if no write lands.
    async fn publish(&mut self, note: Note) {
        self.notes.push(note);
    }

    /// Publishes the held Events: the status that records them landed, or
    /// there is no status to write (the object is let go).
    async fn release(&mut self) {
        let regarding = self.obj.object_ref(&());
        for note in std::mem::take(&mut self.notes) {
            self.ctx.events.publish(&regarding, note).await;
        }
    }
}

/// `work`, given up when it outlasts the reconcile deadline `after`: a
/// provider that accepts connections and never answers must not hold a
/// slot for longer. What the work learned until then is still in the
/// progress, and reported: cutting it is a call whose answer was lost, as
/// a timeout of the call itself would be.
async fn within_deadline(
    after: std::time::Duration,
    work: impl Future<Output = Result<Action, Error>>,
) -> Result<Action, Error> {
    tokio::time::timeout(after, work)
        .await
        .unwrap_or(Err(Error::DeadlineExceeded { after }))
}

/// The pair's plan as status shows it.
fn view_of<P: External>(ext: &P, plan: &Plan<P::Call>) -> PlanView {
    PlanView {
        calls: plan.calls.iter().map(|c| ext.describe(c)).collect(),
        drift: plan.drift.clone(),
        blocked: plan.blocked.clone(),
        awaiting: plan.awaiting.clone(),
    }
}

/// The namespace of `obj`, which every managed kind has.
pub fn namespace_of<K: Managed>(obj: &K) -> Result<String, Error> {
    obj.namespace().ok_or(Error::MissingMetadata("namespace"))
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
