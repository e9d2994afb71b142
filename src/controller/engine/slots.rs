//! A share of the concurrent reconciles for each provider session, so that
//! one slow or hostile endpoint cannot hold them all.
//!
//! kube-runtime runs a fixed number of a kind's reconciles at once, shared by
//! every object of the kind. A ProviderConfig whose endpoint accepts
//! connections and never answers keeps each of its objects' reconciles
//! running until a timeout, so with enough objects it would hold every slot
//! and no other tenant's object would be reconciled at all. Here a
//! reconcile first takes one of its session's slots. When the session
//! already holds its share, the reconcile does not wait (waiting would hold
//! the kube-runtime slot it runs in): the object joins the session's line
//! and goes back in the queue, and the kube-runtime slot goes to another
//! object.
//!
//! The line is fair: a slot given back while objects wait is kept for the
//! first of them, which is woken at once (through the wake the process
//! registered for its kind), so objects retried quickly after a failure
//! cannot take every freed slot before the ones that waited. A kept slot
//! the woken object does not claim within [`KEEP`] goes to the next.
//!
//! The engine does not know what a session is: the kind names it
//! ([`super::Managed::session`]) with a [`SessionKey`], a namespaced
//! ProviderConfig's or a cluster-wide one's. A cluster-wide session's share
//! is per namespace ([`share_key`]), so tenants cannot crowd each other out.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::line::Line;

/// Whose share a reconcile takes: one provider session, as the kind names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SessionKey {
    /// A session defined in a namespace (a ProviderConfig).
    Namespaced { namespace: String, name: String },
    /// A session defined cluster-wide, for objects of every namespace.
    ClusterWide { name: String },
}

/// A [`SessionKey`] borrowed from the object that names it: for counting
/// or searching whole stores without a copy of two strings per object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionRef<'a> {
    Namespaced { namespace: &'a str, name: &'a str },
    ClusterWide { name: &'a str },
}

impl SessionKey {
    pub fn namespaced(namespace: &str, name: &str) -> Self {
        Self::Namespaced {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The key that [`SessionRef`] borrows.
    pub fn of(session: SessionRef<'_>) -> Self {
        match session {
            SessionRef::Namespaced { namespace, name } => Self::namespaced(namespace, name),
            SessionRef::ClusterWide { name } => Self::ClusterWide {
                name: name.to_string(),
            },
        }
    }

    /// Whether this key names the session `session` borrows.
    pub fn is(&self, session: SessionRef<'_>) -> bool {
        match (self, session) {
            (
                Self::Namespaced { namespace, name },
                SessionRef::Namespaced {
                    namespace: ns,
                    name: n,
                },
            ) => name == n && namespace == ns,
            (Self::ClusterWide { name }, SessionRef::ClusterWide { name: n }) => name == n,
            _ => false,
        }
    }

    /// How metrics label it: `namespace/name`, or
    /// `ClusterProviderConfig/name`, which no namespace can be called (a
    /// namespace name has no capitals), so the two never meet.
    pub fn label(&self) -> String {
        match self {
            Self::Namespaced { namespace, name } => format!("{namespace}/{name}"),
            Self::ClusterWide { name } => format!("ClusterProviderConfig/{name}"),
        }
    }
}

/// How soon an object that found its session's share taken looks again by
/// itself, before jitter, should its wake be lost. It is woken as soon as
/// a slot is kept for it, so this is only a safety net, and a long one:
/// at 90,000 objects in line a 10 s look-again put tens of thousands of
/// refusals in the queue at every moment, ahead of the one object woken
/// for its kept slot, which then passed on unclaimed.
pub const SHARE_TAKEN_WAIT: Duration = Duration::from_secs(300);

/// How long a slot given back is kept for the waiting object woken for it.
pub const KEEP: Duration = Duration::from_secs(5);

/// Wakes the object `namespace/name` of one kind: the process's way to put
/// it back in its controller's queue.
pub type Wake = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// An object: its namespace and name.
type Object = (String, String);

/// One session's slots of one kind; a cluster-wide session's, per
/// namespace (see [`share_key`]).
type Key = (&'static str, SessionKey, Option<String>);

/// Whose share a reconcile of `kind` in `namespace` takes. A namespaced
/// session has one tenant. A cluster-wide one (a ClusterProviderConfig) is
/// shared by many teams, so each namespace gets a share of its own: one
/// team's burst of thousands of objects then holds at most one share of
/// reconciles, and so of calls waiting on the config's rate budget, and
/// another team's single object is never behind them in line.
fn share_key(kind: &'static str, session: SessionKey, namespace: &str) -> Key {
    let tenant = match session {
        SessionKey::Namespaced { .. } => None,
        SessionKey::ClusterWide { .. } => Some(namespace.to_string()),
    };
    (kind, session, tenant)
}

/// The slots each session of each kind holds and keeps, and who waits.
pub struct Slots {
    /// How many reconciles of one kind one session may run at once.
    share: usize,
    state: Mutex<State>,
    wakes: HashMap<&'static str, Wake>,
}

#[derive(Default)]
struct State {
    held: HashMap<Key, usize>,
    /// Objects refused a slot, in the order they were first refused.
    waiting: HashMap<Key, Line<Object>>,
    /// Slots given back while objects waited, each kept for the object
    /// woken for it until the instant given.
    kept: HashMap<Key, Vec<(Object, Instant)>>,
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots").field("share", &self.share).finish()
    }
}

impl Slots {
    /// `share` is raised to 1: a session must be able to run at all.
    pub fn new(share: usize) -> Self {
        Self {
            share: share.max(1),
            state: Mutex::default(),
            wakes: HashMap::new(),
        }
    }

    /// How the objects of `kind` are woken when a slot is kept for them.
    pub fn wake(mut self, kind: &'static str, wake: Wake) -> Self {
        self.wakes.insert(kind, wake);
        self
    }

    /// One of `session`'s slots for a reconcile of `kind`'s object
    /// `namespace/name`, or `None` when the session holds its whole share;
    /// the object then waits in line. The slot is given back when dropped.
    pub fn take(
        &self,
        kind: &'static str,
        session: SessionKey,
        namespace: &str,
        name: &str,
    ) -> Option<Slot<'_>> {
        let key = share_key(kind, session, namespace);
        let object = (namespace.to_string(), name.to_string());
        let mut woken = Vec::new();
        let taken = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            woken.extend(state.expire(&key, Instant::now()));
            state.take(&key, object, self.share)
        };
        self.wake_all(kind, woken);
        // Made only when taken: dropping a slot gives it back.
        taken.then(|| Slot { slots: self, key })
    }

    /// How many reconciles of `kind` in `namespace` `session` runs now.
    pub fn held(&self, kind: &'static str, session: &SessionKey, namespace: &str) -> usize {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let key = share_key(kind, session.clone(), namespace);
        state.held.get(&key).copied().unwrap_or(0)
    }

    fn give_back(&self, key: &Key) {
        let woken = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.give_back(key)
        };
        self.wake_all(key.0, woken);
    }

    fn wake_all(&self, kind: &'static str, objects: Vec<Object>) {
        let Some(wake) = self.wakes.get(kind) else {
            return;
        };
        for (namespace, name) in objects {
            wake(&namespace, &name);
        }
    }
}

impl State {
    /// Takes a slot for `object` if one is kept for it, or free and no one
    /// waits for it; else puts `object` in line.
    fn take(&mut self, key: &Key, object: Object, share: usize) -> bool {
        let kept = self.kept.entry(key.clone()).or_default();
        if let Some(at) = kept.iter().position(|(o, _)| *o == object) {
            kept.swap_remove(at);
            *self.held.entry(key.clone()).or_default() += 1;
            return true;
        }
        let kept = kept.len();
        let held = self.held.entry(key.clone()).or_default();
        let free = share.saturating_sub(*held + kept);
        let line = self.waiting.entry(key.clone()).or_default();
        // Free slots go to those in line first, in order.
        let may = line.among_first(&object, free) || line.len() < free;
        if may {
            *held += 1;
            line.leave(&object);
            return true;
        }
        line.join(object);
        false
    }

    /// Gives a slot back; a waiting object, woken by the caller, has it kept.
    fn give_back(&mut self, key: &Key) -> Vec<Object> {
        if let Some(count) = self.held.get_mut(key) {
            *count = count.saturating_sub(1);
        }
        let now = Instant::now();
        // Kept slots not claimed in time pass on here too, not only when
        // another object asks: refused objects wait for their wake, so no
        // one else might ask for a long time.
        let mut woken = self.expire(key, now);
        woken.extend(self.pass_on(key, now));
        self.forget_idle(key);
        woken
    }

    /// Passes the kept slots no one claimed in time on to the next in line.
    fn expire(&mut self, key: &Key, now: Instant) -> Vec<Object> {
        let Some(kept) = self.kept.get_mut(key) else {
            return Vec::new();
        };
        let expired = kept.iter().filter(|(_, until)| *until <= now).count();
        kept.retain(|(_, until)| *until > now);
        (0..expired)
            .filter_map(|_| self.pass_on(key, now))
            .collect()
    }

    /// Keeps a slot for the first in line, if anyone waits; who to wake.
    fn pass_on(&mut self, key: &Key, now: Instant) -> Option<Object> {
        let object = self.waiting.get_mut(key).and_then(Line::next)?;
        let kept = self.kept.entry(key.clone()).or_default();
        kept.push((object.clone(), now + KEEP));
        Some(object)
    }

    /// Only sessions that run, keep or wait for something are remembered.
    fn forget_idle(&mut self, key: &Key) {
        let idle = self.held.get(key).is_none_or(|n| *n == 0)
            && self.kept.get(key).is_none_or(Vec::is_empty)
            && self.waiting.get(key).is_none_or(Line::is_empty);
        if idle {
            self.held.remove(key);
            self.kept.remove(key);
            self.waiting.remove(key);
        }
    }
}

/// Removes `object` from every line of `kind` it waits in, and passes on
/// any slot kept for it: it is gone, and would never claim one. Without
/// this a slot kept for an object deleted while it waited would stay kept
/// until some other object of the session asked for one.
impl Slots {
    pub fn forget(&self, kind: &'static str, namespace: &str, name: &str) {
        let object = (namespace.to_string(), name.to_string());
        let woken = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.forget(kind, &object)
        };
        self.wake_all(kind, woken);
    }
}

impl State {
    fn forget(&mut self, kind: &'static str, object: &Object) -> Vec<Object> {
        let mut woken = Vec::new();
        // A key can be in both maps: each is looked at once.
        let keys: HashSet<Key> = self
            .waiting
            .keys()
            .chain(self.kept.keys())
            .filter(|key| key.0 == kind)
            .cloned()
            .collect();
        for key in keys {
            if let Some(line) = self.waiting.get_mut(&key) {
                line.leave(object);
            }
            let Some(kept) = self.kept.get_mut(&key) else {
                continue;
            };
            let before = kept.len();
            kept.retain(|(o, _)| o != object);
            for _ in kept.len()..before {
                woken.extend(self.pass_on(&key, Instant::now()));
            }
            self.forget_idle(&key);
        }
        woken
    }
}

/// A slot of a session, held by one running reconcile.
#[derive(Debug)]
pub struct Slot<'a> {
    slots: &'a Slots,
    key: Key,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.slots.give_back(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str) -> SessionKey {
        SessionKey::namespaced("team-a", name)
    }

    const KIND: &str = "BackupVault";

    fn take<'a>(slots: &'a Slots, session: &str, object: &str) -> Option<Slot<'a>> {
        slots.take(KIND, config(session), "team-a", object)
    }

    #[test]
    fn a_session_holds_at_most_its_share() {
        let slots = Slots::new(2);
        let first = take(&slots, "slow", "a");
        let second = take(&slots, "slow", "b");
        assert!(first.is_some() && second.is_some());
        assert!(take(&slots, "slow", "c").is_none());
        assert_eq!(slots.held(KIND, &config("slow"), "team-a"), 2);
    }

    #[test]
    fn other_sessions_and_kinds_keep_their_own_share() {
        let slots = Slots::new(1);
        let _slow = take(&slots, "slow", "a");
        assert!(take(&slots, "fast", "b").is_some());
        assert!(
            slots
                .take("Agency", config("slow"), "team-a", "c")
                .is_some()
        );
        let cluster_wide = SessionKey::ClusterWide {
            name: "slow".into(),
        };
        assert!(slots.take(KIND, cluster_wide, "team-a", "d").is_some());
        let other_namespace = SessionKey::namespaced("team-b", "slow");
        assert!(slots.take(KIND, other_namespace, "team-b", "e").is_some());
    }

    #[test]
    fn a_slot_given_back_goes_to_the_first_in_line_who_is_woken() {
        let woken = Arc::new(Mutex::new(Vec::new()));
        let seen = woken.clone();
        let wake: Wake = Arc::new(move |ns: &str, name: &str| {
            seen.lock().unwrap().push(format!("{ns}/{name}"));
        });
        let slots = Slots::new(1).wake(KIND, wake);
        let running = take(&slots, "slow", "hot");
        assert!(take(&slots, "slow", "first").is_none());
        assert!(take(&slots, "slow", "second").is_none());
        drop(running);
        assert_eq!(*woken.lock().unwrap(), ["team-a/first"]);
        // The object that just ran, retried at once, does not jump the line.
        assert!(take(&slots, "slow", "hot").is_none());
        assert!(take(&slots, "slow", "second").is_none());
        let first = take(&slots, "slow", "first");
        assert!(first.is_some(), "the slot kept for the first in line");
        drop(first);
        assert_eq!(*woken.lock().unwrap(), ["team-a/first", "team-a/second"]);
        assert!(take(&slots, "slow", "second").is_some());
    }

    #[test]
    fn a_session_no_one_waits_for_runs_at_its_share_and_is_forgotten_when_idle() {
        let slots = Slots::new(2);
        let slot = take(&slots, "slow", "a");
        drop(slot);
        assert_eq!(slots.held(KIND, &config("slow"), "team-a"), 0);
        let state = slots.state.lock().unwrap();
        assert!(state.held.is_empty() && state.waiting.is_empty() && state.kept.is_empty());
    }

    #[test]
    fn an_object_waits_in_line_once() {
        let slots = Slots::new(1);
        let _running = take(&slots, "slow", "hot");
        for _ in 0..3 {
            assert!(take(&slots, "slow", "patient").is_none());
        }
        let state = slots.state.lock().unwrap();
        assert_eq!(state.waiting[&(KIND, config("slow"), None)].len(), 1);
    }

    #[test]
    fn each_namespace_has_its_own_share_of_a_cluster_wide_session() {
        let slots = Slots::new(1);
        let shared = || SessionKey::ClusterWide {
            name: "shared".into(),
        };
        let _burst = slots.take(KIND, shared(), "team-a", "v1");
        assert!(slots.take(KIND, shared(), "team-a", "v2").is_none());
        let single = slots.take(KIND, shared(), "team-b", "only");
        assert!(single.is_some(), "team-b waits behind no one of team-a");
        assert_eq!(slots.held(KIND, &shared(), "team-a"), 1);
        assert_eq!(slots.held(KIND, &shared(), "team-b"), 1);
        // A namespaced session has one share, whatever the namespace says.
        let namespaced = SessionKey::namespaced("team-a", "own");
        let _one = slots.take(KIND, namespaced.clone(), "team-a", "x");
        assert!(slots.take(KIND, namespaced, "team-a", "y").is_none());
    }

    #[test]
    fn a_share_of_zero_still_runs_one() {
        let slots = Slots::new(0);
        assert!(take(&slots, "slow", "a").is_some());
    }
}

#[cfg(test)]
#[path = "slots_line_tests.rs"]
mod line_tests;
