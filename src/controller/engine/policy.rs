//! How much coffer does for one object, read from its spec and annotations:
//! the management policy, `coffer.dev/paused`, `coffer.dev/poll-interval`,
//! `coffer.dev/reconcile-requested-at`, and the two annotations a user sets
//! to import an object or to allow a create again. Also which changes of an
//! object are worth a reconcile. Pure.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use kube::Resource;

use super::error::Error;
use super::external::Managed;
use crate::api::managed::{
    EXTERNAL_ID_ANNOTATION, ManagementPolicy, PAUSED_ANNOTATION, POLL_INTERVAL_ANNOTATION,
    RECONCILE_REQUESTED_ANNOTATION, RETRY_CALL_ANNOTATION, RETRY_CREATE_ANNOTATION,
};
use crate::cli::parse_duration;

/// The shortest `coffer.dev/poll-interval` honoured: a shorter one is raised
/// to this, so one object cannot spend a ProviderConfig's rate budget alone.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// The annotations that change what a reconcile does.
const STEERING: [&str; 6] = [
    PAUSED_ANNOTATION,
    POLL_INTERVAL_ANNOTATION,
    RECONCILE_REQUESTED_ANNOTATION,
    EXTERNAL_ID_ANNOTATION,
    RETRY_CREATE_ANNOTATION,
    RETRY_CALL_ANNOTATION,
];

/// What coffer may do for one object in this reconcile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    pub management: ManagementPolicy,
    /// No provider call at all.
    pub paused: bool,
    /// This object's drift-check interval, clamped to [`MIN_POLL_INTERVAL`].
    pub poll_interval: Option<Duration>,
    /// The reconcile-requested-at token to answer in status.
    pub requested_at: Option<String>,
    /// An id to import when status holds none.
    pub external_id: Option<String>,
    /// The create-pending `since` the user allows a new create past.
    pub retry_create: Option<String>,
    /// The call-pending `since` the user allows the call again past.
    pub retry_call: Option<String>,
}

impl Policy {
    /// Reads the policy of `obj`. A poll interval that is not a duration is
    /// an error the user sees, not a silent default.
    pub fn of<K: Managed>(obj: &K) -> Result<Self, Error> {
        let annotations = &obj.meta().annotations;
        let get = |key: &str| {
            annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let poll_interval = get(POLL_INTERVAL_ANNOTATION)
            .map(|text| {
                parse_duration(&text)
                    .map(|d| d.max(MIN_POLL_INTERVAL))
                    .map_err(|e| Error::InvalidSpec {
                        reason: "InvalidAnnotation",
                        message: format!("annotation {POLL_INTERVAL_ANNOTATION}: {e}"),
                    })
            })
            .transpose()?;
        Ok(Self {
            management: obj.management_policy(),
            paused: get(PAUSED_ANNOTATION).is_some_and(|v| v.eq_ignore_ascii_case("true")),
            poll_interval,
            requested_at: get(RECONCILE_REQUESTED_ANNOTATION),
            external_id: get(EXTERNAL_ID_ANNOTATION),
            retry_create: get(RETRY_CREATE_ANNOTATION),
            retry_call: get(RETRY_CALL_ANNOTATION),
        })
    }

    pub fn observe_only(&self) -> bool {
        self.management == ManagementPolicy::ObserveOnly
    }
}

/// `obj`'s own drift-check interval, when its annotation names a valid one
/// (an invalid one is reported by its reconcile, through [`Policy::of`]).
/// Cheap: the resync sweep asks it of every object every second.
pub fn poll_interval_of<K: Resource>(obj: &K) -> Option<Duration> {
    let text = obj
        .meta()
        .annotations
        .as_ref()?
        .get(POLL_INTERVAL_ANNOTATION)?;
    parse_duration(text.trim())
        .ok()
        .map(|d| d.max(MIN_POLL_INTERVAL))
}

/// What makes a change of an object worth a reconcile: its spec, its
/// deletion and the steering annotations — not its status, which coffer
/// writes itself, nor its finalizers: coffer adds its own in the reconcile
/// that goes on to create, so the change would only cost a second reconcile
/// (and a provider read) per new object.
pub fn wake_key<K: Resource>(obj: &K) -> Option<u64> {
    let meta = obj.meta();
    let mut hasher = DefaultHasher::new();
    (
        meta.uid.as_deref(),
        meta.generation,
        meta.deletion_timestamp.is_some(),
    )
        .hash(&mut hasher);
    for key in STEERING {
        meta.annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .hash(&mut hasher);
    }
    Some(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BackupVault;
    use crate::controller::engine::fixtures::object;

    fn annotated(pairs: &[(&str, &str)]) -> BackupVault {
        let mut bv = object();
        bv.metadata.annotations = Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        bv
    }

    #[test]
    fn no_annotations_is_full_management_at_the_global_interval() {
        let policy = Policy::of(&object()).expect("valid");
        assert_eq!(policy, Policy::default());
    }

    #[test]
    fn poll_interval_is_parsed_and_clamped() {
        let policy = Policy::of(&annotated(&[(POLL_INTERVAL_ANNOTATION, "30s")])).expect("valid");
        assert_eq!(policy.poll_interval, Some(Duration::from_secs(30)));
        let fast = Policy::of(&annotated(&[(POLL_INTERVAL_ANNOTATION, "1s")])).expect("valid");
        assert_eq!(fast.poll_interval, Some(MIN_POLL_INTERVAL));
        let bad = Policy::of(&annotated(&[(POLL_INTERVAL_ANNOTATION, "often")]))
            .expect_err("not a duration");
        assert_eq!(bad.reason(), "InvalidAnnotation");
        assert!(
            bad.to_string().contains("coffer.dev/poll-interval"),
            "{bad}"
        );
    }

    #[test]
    fn paused_only_when_true() {
        assert!(
            Policy::of(&annotated(&[(PAUSED_ANNOTATION, "true")]))
                .expect("valid")
                .paused
        );
        assert!(
            !Policy::of(&annotated(&[(PAUSED_ANNOTATION, "false")]))
                .expect("valid")
                .paused
        );
    }

    #[test]
    fn the_sweep_reads_a_valid_poll_interval_clamped_and_skips_an_invalid_one() {
        let every = |text: &str| poll_interval_of(&annotated(&[(POLL_INTERVAL_ANNOTATION, text)]));
        assert_eq!(every(" 30s "), Some(Duration::from_secs(30)));
        assert_eq!(every("1s"), Some(MIN_POLL_INTERVAL));
        // Its reconcile reports it; the sweep uses the operator's interval.
        assert_eq!(every("often"), None);
        assert_eq!(poll_interval_of(&object()), None);
    }

    #[test]
    fn only_the_observe_only_policy_observes_only() {
        assert!(!Policy::default().observe_only(), "Full acts");
        let observing = Policy {
            management: ManagementPolicy::ObserveOnly,
            ..Policy::default()
        };
        assert!(observing.observe_only());
    }

    #[test]
    fn steering_annotations_wake_but_others_do_not() {
        let base = wake_key(&object());
        assert_ne!(
            wake_key(&annotated(&[(RECONCILE_REQUESTED_ANNOTATION, "1")])),
            base
        );
        assert_ne!(wake_key(&annotated(&[(PAUSED_ANNOTATION, "true")])), base);
        assert_eq!(wake_key(&annotated(&[("team", "a")])), base);
        let mut with_status = object();
        with_status.status = Some(Default::default());
        assert_eq!(wake_key(&with_status), base);
    }
}
