//! A quiet start. When coffer starts (or takes over as leader) every object
//! arrives at once from the initial list; reading each from the provider
//! right away would spend a whole resync's worth of provider reads in a
//! burst, and at 10,000 objects run into the provider's rate limits. An
//! object whose status says it was left settled — Ready, Synced, for this
//! generation, nothing in flight — is looked at again at a random moment
//! within the resync interval instead, which is when a resync would have
//! read it anyway. Everything else (new objects, changed specs, anything
//! in progress) is reconciled at once.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

use super::external::Managed;
use super::policy::Policy;
use crate::api::conditions::{self, READY, SYNCED};

/// Which objects this process has looked at since it started leading.
pub struct FirstLook {
    window: Duration,
    state: Mutex<State>,
}

enum State {
    /// No reconcile yet: the window opens with the first one, which is
    /// when this replica started leading.
    Waiting,
    /// Objects seen in the window, by a hash of their uid (8 bytes each,
    /// dropped when the window closes).
    Open {
        since: Instant,
        seen: HashSet<u64>,
    },
    Closed,
}

impl FirstLook {
    /// `window`: the resync interval; a deferred object comes back within it.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            state: Mutex::new(State::Waiting),
        }
    }

    /// How long to put off the first look at `obj`, if at all. Every object
    /// reconciled is noted, fresh ones too (whose finalizer this reconcile
    /// adds): their later reconciles are not first looks.
    pub fn defer<K: Managed>(&self, obj: &K, policy: &Policy, fresh: bool) -> Option<Duration> {
        let uid = obj.meta().uid.as_deref()?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let State::Waiting = *state {
            *state = State::Open {
                since: Instant::now(),
                seen: HashSet::new(),
            };
        }
        let State::Open { since, seen } = &mut *state else {
            return None;
        };
        if since.elapsed() >= self.window {
            *state = State::Closed;
            return None;
        }
        let first = seen.insert(hash(uid));
        // Within the object's own poll interval when it has one.
        let within = policy.poll_interval.unwrap_or(self.window).min(self.window);
        (first && !fresh && settled(obj, policy))
            .then(|| within.mul_f64(rand::rng().random_range(0.0..1.0)))
    }
}

fn hash(uid: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    uid.hash(&mut hasher);
    hasher.finish()
}

/// Whether `obj`'s status says coffer left it with nothing to do: the
/// provider object known, Ready and Synced for this generation, nothing in
/// flight or pending, and no reconcile request unanswered.
pub fn settled<K: Managed>(obj: &K, policy: &Policy) -> bool {
    let Some(status) = obj.managed_status() else {
        return false;
    };
    let generation = obj.meta().generation;
    let holds = |type_| {
        conditions::find(&status.conditions, type_)
            .is_some_and(|c| c.status == "True" && c.observed_generation == generation)
    };
    status.external_id.is_some()
        && status.in_flight.is_empty()
        && status.create_pending.is_none()
        && status.call_pending.is_none()
        && status.observed_generation == generation
        && holds(READY)
        && holds(SYNCED)
        && (policy.requested_at.is_none()
            || policy.requested_at == status.last_handled_reconcile_at)
        && obj.meta().deletion_timestamp.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BackupVault;
    use crate::api::conditions::Condition;
    use crate::api::managed::InFlightCall;
    use crate::controller::backup_vault::fixtures::object;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn condition(type_: &str, generation: i64) -> Condition {
        Condition {
            type_: type_.into(),
            status: "True".into(),
            observed_generation: Some(generation),
            last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
            reason: "Available".into(),
            message: String::new(),
        }
    }

    fn settled_vault() -> BackupVault {
        let mut bv = object();
        let status = bv.status.get_or_insert_with(Default::default);
        status.external_id = Some("vault-1".into());
        status.observed_generation = Some(1);
        status.conditions = vec![condition(READY, 1), condition(SYNCED, 1)];
        bv
    }

    #[test]
    fn only_a_status_that_says_ready_and_synced_for_this_generation_is_settled() {
        let policy = Policy::default();
        assert!(settled(&settled_vault(), &policy));
        assert!(!settled(&object(), &policy), "never reconciled");
        let mut changed = settled_vault();
        changed.metadata.generation = Some(2);
        assert!(!settled(&changed, &policy), "spec changed since");
        let mut pending = settled_vault();
        pending.status.as_mut().unwrap().in_flight = vec![InFlightCall {
            call: "job/1".into(),
            since: Time(jiff::Timestamp::UNIX_EPOCH),
        }];
        assert!(!settled(&pending, &policy), "a call in flight");
        let asked = Policy {
            requested_at: Some("now".into()),
            ..Policy::default()
        };
        assert!(
            !settled(&settled_vault(), &asked),
            "a reconcile was requested"
        );
    }

    #[test]
    fn a_settled_object_is_put_off_once_within_the_window() {
        let look = FirstLook::new(Duration::from_secs(60));
        let policy = Policy::default();
        let delay = look
            .defer(&settled_vault(), &policy, false)
            .expect("put off");
        assert!(delay < Duration::from_secs(60));
        assert_eq!(
            look.defer(&settled_vault(), &policy, false),
            None,
            "second look"
        );
        assert_eq!(look.defer(&object(), &policy, false), None, "not settled");
    }

    #[test]
    fn an_object_first_seen_fresh_is_not_put_off_later() {
        let look = FirstLook::new(Duration::from_secs(60));
        let policy = Policy::default();
        assert_eq!(look.defer(&settled_vault(), &policy, true), None, "fresh");
        assert_eq!(look.defer(&settled_vault(), &policy, false), None, "seen");
    }

    #[test]
    fn an_object_with_its_own_poll_interval_is_put_off_within_it() {
        let look = FirstLook::new(Duration::from_secs(600));
        let policy = Policy {
            poll_interval: Some(Duration::from_secs(10)),
            ..Policy::default()
        };
        let delay = look
            .defer(&settled_vault(), &policy, false)
            .expect("put off");
        assert!(delay < Duration::from_secs(10));
    }

    #[test]
    fn nothing_is_put_off_once_the_window_has_closed() {
        let look = FirstLook::new(Duration::ZERO);
        assert_eq!(
            look.defer(&settled_vault(), &Policy::default(), false),
            None
        );
    }
}
