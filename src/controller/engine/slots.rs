//! A share of the concurrent reconciles for each provider session, so that
//! one slow or hostile endpoint cannot hold them all.
//!
//! kube-runtime runs a fixed number of a kind's reconciles at once, shared by
//! every object of the kind. A ProviderConfig whose endpoint accepts
//! connections and never answers keeps each of its objects' reconciles
//! running until a timeout, so with enough objects it would hold every slot
//! and no other tenant's object would be reconciled at all. Here a
//! reconcile first takes one of its session's slots; when the session
//! already holds its share, the reconcile does not wait (waiting would hold
//! the kube-runtime slot it runs in) but is put back in the queue for a
//! moment later, and the slot goes to the next object in the queue.
//!
//! The engine does not know what a session is: the kind names it
//! ([`super::Managed::session`]) with a [`SessionKey`], a namespaced
//! ProviderConfig's or a cluster-wide one's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Whose share a reconcile takes: one provider session, as the kind names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SessionKey {
    /// A session defined in a namespace (a ProviderConfig).
    Namespaced { namespace: String, name: String },
    /// A session defined cluster-wide, for objects of every namespace.
    ClusterWide { name: String },
}

impl SessionKey {
    pub fn namespaced(namespace: &str, name: &str) -> Self {
        Self::Namespaced {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

/// How soon a reconcile that found its session's share taken looks again,
/// before jitter: a slot held by a hanging call frees after a timeout, one
/// held by a healthy call in well under this.
pub const SHARE_TAKEN_WAIT: Duration = Duration::from_secs(2);

/// The slots each session of each kind holds right now.
#[derive(Debug)]
pub struct Slots {
    /// How many reconciles of one kind one session may run at once.
    share: usize,
    held: Mutex<HashMap<(&'static str, SessionKey), usize>>,
}

impl Slots {
    /// `share` is raised to 1: a session must be able to run at all.
    pub fn new(share: usize) -> Self {
        Self {
            share: share.max(1),
            held: Mutex::default(),
        }
    }

    /// One of `session`'s slots for a reconcile of `kind`, or `None` when it
    /// holds its whole share. The slot is given back when dropped.
    pub fn take(&self, kind: &'static str, session: SessionKey) -> Option<Slot<'_>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let key = (kind, session);
        let count = held.entry(key.clone()).or_default();
        if *count >= self.share {
            return None;
        }
        *count += 1;
        Some(Slot { slots: self, key })
    }

    /// How many reconciles of `kind` `session` runs now.
    pub fn held(&self, kind: &'static str, session: &SessionKey) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get(&(kind, session.clone())).copied().unwrap_or(0)
    }

    fn give_back(&self, key: &(&'static str, SessionKey)) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(key) {
            *count = count.saturating_sub(1);
            // Only sessions that run something are kept.
            if *count == 0 {
                held.remove(key);
            }
        }
    }
}

/// A slot of a session, held by one running reconcile.
#[derive(Debug)]
pub struct Slot<'a> {
    slots: &'a Slots,
    key: (&'static str, SessionKey),
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

    #[test]
    fn a_session_holds_at_most_its_share() {
        let slots = Slots::new(2);
        let first = slots.take("BackupVault", config("slow"));
        let second = slots.take("BackupVault", config("slow"));
        assert!(first.is_some() && second.is_some());
        assert!(slots.take("BackupVault", config("slow")).is_none());
        assert_eq!(slots.held("BackupVault", &config("slow")), 2);
    }

    #[test]
    fn other_sessions_and_kinds_keep_their_own_share() {
        let slots = Slots::new(1);
        let _slow = slots.take("BackupVault", config("slow"));
        assert!(slots.take("BackupVault", config("fast")).is_some());
        assert!(slots.take("Agency", config("slow")).is_some());
        let cluster_wide = SessionKey::ClusterWide {
            name: "slow".into(),
        };
        assert!(slots.take("BackupVault", cluster_wide).is_some());
        let other_namespace = SessionKey::namespaced("team-b", "slow");
        assert!(slots.take("BackupVault", other_namespace).is_some());
    }

    #[test]
    fn a_slot_is_given_back_when_its_reconcile_ends() {
        let slots = Slots::new(1);
        let slot = slots.take("BackupVault", config("slow"));
        assert!(slot.is_some());
        drop(slot);
        assert_eq!(slots.held("BackupVault", &config("slow")), 0);
        assert!(slots.take("BackupVault", config("slow")).is_some());
    }

    #[test]
    fn a_share_of_zero_still_runs_one() {
        let slots = Slots::new(0);
        assert!(slots.take("BackupVault", config("slow")).is_some());
    }
}
