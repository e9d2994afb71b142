//! One pass of observe → plan → act against a toy cloud of one vault: what
//! is called, what stays in flight, what status will show and when the
//! object is looked at again. The object already holds its finalizer and
//! no call here is once-only, so a pass writes nothing to the API server
//! (there is none); a pass that did would fail with `KubernetesError`.
//! Once-only calls, which write their marker first, are in `once_only`.

use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;

use super::*;
use crate::api::backup_vault::VaultObservation;
use crate::api::managed::PlannedCall;
use crate::controller::engine::external::{Blocked, Candidate, Created, Lookup};
use crate::provider::ProviderError;

/// A cloud of (at most) one vault, `v1`, whose state and plan the test sets.
#[derive(Default)]
struct Toy {
    /// The vault's state, when the cloud has it.
    vault: Option<String>,
    /// A provider listing answers for the vault (a drift check's read).
    listed: bool,
    /// The calls the plan makes, by name.
    calls: Vec<&'static str>,
    /// The call that is once-only, by its own name.
    once: Option<&'static str>,
    /// In-flight keys the vault shows the effect of.
    shows: Vec<&'static str>,
    /// The answer to every call: `None` is success.
    refuse: Option<ProviderError>,
    recheck: Option<std::time::Duration>,
    /// What the pass asked of the cloud.
    made: Mutex<Vec<String>>,
    /// The in-flight set the plan was given.
    planned_around: Mutex<BTreeSet<String>>,
}

#[async_trait]
impl External for Toy {
    type Kind = BackupVault;
    type Observed = String;
    type Call = &'static str;
    type Env = ();

    const LOOKUP: Lookup = Lookup::OwnershipTag;

    fn connect(_: &BackupVault, _: &Context<()>) -> Result<Self, Error> {
        unreachable!("the tests make the pair themselves")
    }

    fn name(&self) -> &str {
        "team-a"
    }

    async fn get(&self, _id: &str) -> Result<Option<String>, ProviderError> {
        Ok(self.vault.clone())
    }

    async fn listed(
        &self,
        _id: &str,
        _max_age: std::time::Duration,
    ) -> Result<Option<String>, ProviderError> {
        Ok(self.vault.clone().filter(|_| self.listed))
    }

    async fn find(&self) -> Result<Vec<Candidate<String>>, ProviderError> {
        Ok(Vec::new())
    }

    fn plan(&self, _observed: &String, in_flight: &BTreeSet<String>) -> Plan<&'static str> {
        *self.planned_around.lock().unwrap() = in_flight.clone();
        Plan {
            calls: self.calls.clone(),
            ..Plan::default()
        }
    }

    fn planned_create(&self) -> PlannedCall {
        PlannedCall {
            operation: "create".into(),
            target: "vault team-a".into(),
            fields: Vec::new(),
        }
    }

    async fn create(&self) -> Result<Created<String>, ProviderError> {
        self.made.lock().unwrap().push("create".into());
        Ok(Created {
            observed: "available".into(),
            awaiting: Vec::new(),
        })
    }

    async fn call(&self, _id: &str, call: &&'static str) -> Result<Option<String>, ProviderError> {
        self.made.lock().unwrap().push(call.to_string());
        match &self.refuse {
            Some(e) => Err(e.clone()),
            None => Ok(None),
        }
    }

    async fn delete(&self, _observed: &String) -> Result<(), ProviderError> {
        unreachable!("a pass never deletes")
    }

    fn health(&self, observed: &String) -> Health {
        match observed.as_str() {
            "deleting" => Health::Deleting,
            _ => Health::Available {
                message: format!("vault v1 is {observed}"),
            },
        }
    }

    fn at_provider(&self, observed: &String) -> VaultObservation {
        VaultObservation {
            status: Some(observed.clone()),
            ..VaultObservation::default()
        }
    }

    fn id(_observed: &String) -> String {
        "v1".into()
    }

    fn describe(&self, call: &&'static str) -> PlannedCall {
        PlannedCall {
            operation: call.to_string(),
            target: "vault v1".into(),
            fields: Vec::new(),
        }
    }

    fn once_only(&self, call: &&'static str) -> Option<String> {
        self.once.filter(|once| once == call).map(str::to_string)
    }

    fn recheck(&self, _observed: &String) -> Option<std::time::Duration> {
        self.recheck
    }

    fn settled(&self, _observed: &String, key: &str) -> bool {
        self.shows.contains(&key)
    }
}

impl Toy {
    fn with(vault: &str) -> Self {
        Toy {
            vault: Some(vault.into()),
            ..Toy::default()
        }
    }

    fn made(&self) -> Vec<String> {
        self.made.lock().unwrap().clone()
    }
}

/// The vault object as coffer left it: holding its finalizer, its cloud
/// object recorded as `v1`, and Synced for its generation when `synced`.
fn recorded(synced: bool) -> BackupVault {
    let mut bv = object();
    bv.metadata.finalizers = Some(vec![BackupVault::FINALIZER.into()]);
    let status = bv.status.get_or_insert_with(Default::default);
    status.external_id = Some("v1".into());
    if synced {
        status.conditions = vec![Condition {
            type_: SYNCED.into(),
            status: "True".into(),
            reason: "ReconcileSuccess".into(),
            message: String::new(),
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
            observed_generation: Some(1),
        }];
    }
    bv
}

/// One pass of `toy` on `obj` under `policy`, read as `how` says: how it
/// ended, what it learned and the Events it holds.
async fn pass(
    toy: &Toy,
    obj: &BackupVault,
    policy: Policy,
    how: Read,
    edit: impl FnOnce(&mut Progress<VaultObservation>),
) -> (Result<Pass, Error>, Progress<VaultObservation>, Vec<Note>) {
    pass_in(&context(timing()), toy, obj, policy, how, edit).await
}

/// [`pass`] in `ctx`.
async fn pass_in(
    ctx: &Context<()>,
    toy: &Toy,
    obj: &BackupVault,
    policy: Policy,
    how: Read,
    edit: impl FnOnce(&mut Progress<VaultObservation>),
) -> (Result<Pass, Error>, Progress<VaultObservation>, Vec<Note>) {
    let api = api(ctx);
    let mut run = run(ctx, &api, obj, policy);
    let mut progress = Progress::of(obj, &run.status);
    edit(&mut progress);
    let ended = run.sync_pass(toy, &mut progress, how).await;
    (ended, progress, run.notes)
}

/// A direct pass under a Full policy, from the object's own status.
async fn full_pass(
    toy: &Toy,
    obj: &BackupVault,
) -> (Result<Pass, Error>, Progress<VaultObservation>, Vec<Note>) {
    pass(toy, obj, Policy::default(), Read::Direct, |_| {}).await
}

fn done(ended: Result<Pass, Error>) -> Action {
    match ended {
        Ok(Pass::Done(action)) => action,
        Ok(Pass::ReadAgain) => panic!("read again"),
        Err(e) => panic!("failed: {e}"),
    }
}

fn observe_only() -> Policy {
    Policy {
        management: ManagementPolicy::ObserveOnly,
        ..Policy::default()
    }
}

fn operations(view: &PlanView) -> Vec<&str> {
    view.calls.iter().map(|c| c.operation.as_str()).collect()
}

#[tokio::test]
async fn a_vault_that_matches_its_spec_is_only_read() {
    let toy = Toy::with("available");
    let (ended, progress, notes) = full_pass(&toy, &recorded(true)).await;
    assert_eq!(done(ended), Action::await_change());
    assert!(toy.made().is_empty());
    assert!(notes.is_empty(), "nothing was done: {notes:?}");
    assert_eq!(progress.external_id.as_deref(), Some("v1"));
    let (seen, health) = progress.observed.expect("observed");
    assert_eq!(seen.status.as_deref(), Some("available"));
    assert!(matches!(health, Health::Available { .. }));
    assert_eq!(progress.plan, Some(PlanView::default()));
}

#[tokio::test]
async fn a_planned_call_is_made_and_leaves_nothing_to_call() {
    let toy = Toy {
        calls: vec!["update"],
        ..Toy::with("available")
    };
    let (ended, progress, notes) = full_pass(&toy, &recorded(false)).await;
    assert_eq!(done(ended), Action::await_change());
    assert_eq!(toy.made(), ["update"]);
    assert!(progress.plan.expect("a plan").calls.is_empty());
    assert_eq!(
        notes,
        [Note::normal(reason::UPDATED, "Update", "update vault v1")]
    );
}

#[tokio::test]
async fn a_change_to_a_vault_left_in_sync_is_drift_corrected() {
    let toy = Toy {
        calls: vec!["update"],
        ..Toy::with("available")
    };
    let (_, _, notes) = full_pass(&toy, &recorded(true)).await;
    assert_eq!(
        notes,
        [Note::normal(
            reason::DRIFT_CORRECTED,
            "Update",
            "update vault v1"
        )]
    );
}

#[tokio::test]
async fn observing_only_calls_nothing_and_shows_the_plan() {
    let toy = Toy {
        calls: vec!["update"],
        ..Toy::with("available")
    };
    let (ended, progress, notes) =
        pass(&toy, &recorded(true), observe_only(), Read::Direct, |_| {}).await;
    assert_eq!(done(ended), Action::await_change());
    assert!(toy.made().is_empty());
    assert!(notes.is_empty());
    assert_eq!(operations(&progress.plan.expect("a plan")), ["update"]);
}

#[tokio::test]
async fn observing_only_with_nothing_found_shows_the_create_it_would_make() {
    let toy = Toy::default();
    let mut new = object();
    new.metadata.finalizers = Some(vec![BackupVault::FINALIZER.into()]);
    let (ended, progress, _) = pass(&toy, &new, observe_only(), Read::Direct, |_| {}).await;
    assert_eq!(done(ended), Action::await_change());
    assert!(toy.made().is_empty(), "nothing is created");
    assert_eq!(operations(&progress.plan.expect("a plan")), ["create"]);
}

#[tokio::test]
async fn with_nothing_found_the_vault_is_created() {
    let toy = Toy::default();
    let mut new = object();
    new.metadata.finalizers = Some(vec![BackupVault::FINALIZER.into()]);
    let (ended, progress, _) = pass(&toy, &new, Policy::default(), Read::Direct, |_| {}).await;
    assert_eq!(toy.made(), ["create"]);
    assert_eq!(progress.external_id.as_deref(), Some("v1"));
    // The id is recorded at once; here no API server takes the write.
    let error = ended.err().expect("the status write fails");
    assert_eq!(error.reason(), "KubernetesError");
}

#[tokio::test]
async fn a_call_in_flight_stays_until_the_vault_shows_it_or_it_is_too_old() {
    let toy = Toy {
        shows: vec!["shown"],
        ..Toy::with("available")
    };
    let since = |at: Timestamp| Time(at);
    let now = Timestamp::now();
    let (ended, progress, _) = pass(
        &toy,
        &recorded(true),
        Policy::default(),
        Read::Direct,
        |p| {
            p.in_flight = vec![
                InFlightCall {
                    call: "waiting".into(),
                    since: since(now),
                },
                InFlightCall {
                    call: "shown".into(),
                    since: since(now),
                },
                InFlightCall {
                    call: "stale".into(),
                    since: since(Timestamp::UNIX_EPOCH),
                },
            ]
        },
    )
    .await;
    let kept: Vec<_> = progress.in_flight.iter().map(|f| f.call.as_str()).collect();
    assert_eq!(kept, ["waiting"]);
    let planned_around: Vec<_> = toy.planned_around.lock().unwrap().iter().cloned().collect();
    assert_eq!(planned_around, ["waiting"]);
    let again = done(ended);
    assert!(around(&again, timing().poll_interval), "{again:?}");
}

#[tokio::test]
async fn a_vault_on_its_way_out_is_polled_until_gone() {
    let toy = Toy {
        calls: vec!["update"],
        ..Toy::with("deleting")
    };
    let (ended, _, _) = full_pass(&toy, &recorded(true)).await;
    let again = done(ended);
    assert!(around(&again, timing().poll_interval), "{again:?}");
    assert!(toy.made().is_empty());
}

#[tokio::test]
async fn a_pair_that_waits_on_someone_else_is_rechecked_at_its_time() {
    let toy = Toy {
        recheck: Some(std::time::Duration::from_secs(45)),
        ..Toy::with("available")
    };
    let (ended, _, _) = full_pass(&toy, &recorded(true)).await;
    let again = done(ended);
    assert!(
        around(&again, std::time::Duration::from_secs(45)),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_write_is_never_decided_on_a_listing() {
    let toy = Toy {
        calls: vec!["update"],
        listed: true,
        ..Toy::with("available")
    };
    let (ended, _, _) = pass(
        &toy,
        &recorded(true),
        Policy::default(),
        Read::Listing,
        |_| {},
    )
    .await;
    assert!(matches!(ended, Ok(Pass::ReadAgain)));
    assert!(toy.made().is_empty());
    // Nothing to write: the listing is enough.
    let quiet = Toy {
        listed: true,
        ..Toy::with("available")
    };
    let (ended, _, _) = pass(
        &quiet,
        &recorded(true),
        Policy::default(),
        Read::Listing,
        |_| {},
    )
    .await;
    assert_eq!(done(ended), Action::await_change());
}

#[tokio::test]
async fn a_once_only_call_of_unknown_outcome_is_withheld_and_the_rest_made() {
    let toy = Toy {
        calls: vec!["post", "update"],
        once: Some("post"),
        ..Toy::with("available")
    };
    let (ended, progress, _) = pass(
        &toy,
        &recorded(true),
        Policy::default(),
        Read::Direct,
        |p| {
            p.call_pending = Some(CallPending {
                call: "post".into(),
                since: "t0".into(),
            })
        },
    )
    .await;
    done(ended);
    assert_eq!(toy.made(), ["update"]);
    let blocked: Vec<_> = progress.plan.expect("a plan").blocked;
    assert!(
        matches!(blocked.as_slice(), [Blocked { reason: "CallOutcomeUnknown", message }]
            if message.contains("coffer.dev/retry-call=t0")),
        "{blocked:?}"
    );
    assert!(progress.call_pending.is_some(), "still unknown");
}

#[tokio::test]
async fn a_failed_call_shows_what_is_still_to_do_and_keeps_a_pending_marker() {
    let toy = Toy {
        calls: vec!["update", "tag"],
        refuse: Some(ProviderError::Invalid {
            code: "BackupService.6101".into(),
            message: "bad size".into(),
        }),
        ..Toy::with("available")
    };
    let (ended, progress, _) = pass(
        &toy,
        &recorded(true),
        Policy::default(),
        Read::Direct,
        |p| {
            p.call_pending = Some(CallPending {
                call: "post".into(),
                since: "t0".into(),
            })
        },
    )
    .await;
    let error = ended.err().expect("the call failed");
    assert!(
        error.to_string().contains("could not update vault"),
        "{error}"
    );
    assert_eq!(toy.made(), ["update"]);
    assert_eq!(
        operations(&progress.plan.expect("a plan")),
        ["update", "tag"]
    );
    // Not this call's marker: a failure of another call says nothing of it.
    assert!(progress.call_pending.is_some());
}

/// Once-only calls, against a fake API server that takes their markers.
#[path = "run_once_only_tests.rs"]
mod once_only;
