//! How many objects of each kind exist and in what state, counted from the
//! reflector stores coffer keeps anyway, at scrape time: no request to the
//! API server and nothing kept per object. And the time from an object's
//! creation to its first Ready, seen as its status arrives in the watch
//! (holding only the objects not Ready yet).
//!
//! Labels are bounded: kind, condition type and status, and a condition
//! reason from the kind's fixed list (anything else is counted as `Other`),
//! never an object's name.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock};

use jiff::Timestamp;
use kube::Resource;
use kube::runtime::reflector::Store;
use kube::runtime::watcher::Event;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::api::conditions::{Condition, READY, Reason, SYNCED, find};
use crate::controller::engine::Managed;
use crate::controller::provider_config::Config;

/// The reason label of a reason outside the kind's list.
pub const OTHER: &str = "Other";
/// The reason label of an object without the condition yet.
pub const NONE: &str = "None";

/// Seconds from creation to first Ready: a vault is Ready in a second or
/// two, a Commvault vault after its endpoint job, a share once the other
/// side acts.
const TIME_TO_READY_BUCKETS: [f64; 13] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConditionLabels {
    kind: &'static str,
    condition: &'static str,
    status: &'static str,
    reason: &'static str,
}

/// What the census needs of one cached object.
pub struct ObjectState<'a> {
    pub conditions: &'a [Condition],
    /// Entries in `status.drift`.
    pub drifted: bool,
}

/// The objects of one kind, read from its store.
pub trait Census: Send + Sync {
    fn kind(&self) -> &'static str;
    /// Counts every cached object into `tally`.
    fn count(&self, now: Timestamp, tally: &mut Tally);
}

/// A kind's store, with how to read an object's state and the kind's fixed
/// list of condition reasons.
pub struct StoreCensus<K: Resource<DynamicType = ()> + 'static> {
    kind: &'static str,
    store: Store<K>,
    reasons: Vec<&'static str>,
    state: fn(&K) -> ObjectState<'_>,
}

impl<K> StoreCensus<K>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    /// `reasons`: the lists of condition reasons the kind can show (the
    /// engine's and its own), each a fixed set.
    pub fn new(
        kind: &'static str,
        store: Store<K>,
        reasons: &[&'static [Reason]],
        state: fn(&K) -> ObjectState<'_>,
    ) -> Self {
        Self {
            kind,
            store,
            reasons: reasons
                .iter()
                .flat_map(|l| l.iter().map(|r| r.name))
                .collect(),
            state,
        }
    }
}

impl<K> Census for StoreCensus<K>
where
    K: Resource<DynamicType = ()> + Clone + Send + Sync + 'static,
{
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn count(&self, now: Timestamp, tally: &mut Tally) {
        for obj in self.store.state() {
            let created = obj.meta().creation_timestamp.as_ref().map(|t| t.0);
            tally.add(&self.reasons, &(self.state)(obj.as_ref()), created, now);
        }
    }
}

/// One kind's counts at one scrape.
#[derive(Debug, Default)]
pub struct Tally {
    pub objects: i64,
    pub ready: i64,
    pub synced: i64,
    pub drifted: i64,
    /// By condition type, status and reason label.
    pub by_condition: BTreeMap<(&'static str, &'static str, &'static str), i64>,
    /// The longest time any object has been not Ready, since its Ready
    /// condition last changed (or, without one, since it was created).
    pub longest_not_ready: f64,
}

impl Tally {
    fn add(
        &mut self,
        reasons: &[&'static str],
        state: &ObjectState<'_>,
        created: Option<Timestamp>,
        now: Timestamp,
    ) {
        self.objects += 1;
        self.drifted += i64::from(state.drifted);
        for type_ in [READY, SYNCED] {
            let condition = find(state.conditions, type_);
            let status = condition.map_or(NONE, |c| status_label(&c.status));
            let reason = condition.map_or(NONE, |c| reason_label(reasons, &c.reason));
            *self
                .by_condition
                .entry((type_, status, reason))
                .or_default() += 1;
            if status == "True" {
                match type_ {
                    READY => self.ready += 1,
                    _ => self.synced += 1,
                }
            } else if type_ == READY {
                let since = condition.map(|c| c.last_transition_time.0).or(created);
                if let Some(since) = since {
                    let seconds = now.duration_since(since).as_secs_f64().max(0.0);
                    self.longest_not_ready = self.longest_not_ready.max(seconds);
                }
            }
        }
    }
}

/// `reason` if it is one of `reasons`, else [`OTHER`]: what keeps the label bounded.
fn reason_label(reasons: &[&'static str], reason: &str) -> &'static str {
    reasons
        .iter()
        .find(|r| **r == reason)
        .copied()
        .unwrap_or(OTHER)
}

/// The state of a managed object.
pub fn managed_state<K: Managed>(obj: &K) -> ObjectState<'_> {
    ObjectState {
        conditions: managed_conditions(obj),
        drifted: obj.managed_status().is_some_and(|s| !s.drift.is_empty()),
    }
}

/// The conditions of a managed object.
pub fn managed_conditions<K: Managed>(obj: &K) -> &[Condition] {
    obj.managed_status()
        .map_or(&[], |s| s.conditions.as_slice())
}

/// The state of a ProviderConfig or ClusterProviderConfig, which has no drift.
pub fn provider_config_state<C: Config>(pc: &C) -> ObjectState<'_> {
    ObjectState {
        conditions: pc.config_status().map_or(&[], |s| s.conditions.as_slice()),
        drifted: false,
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "True" => "True",
        "False" => "False",
        _ => "Unknown",
    }
}

/// The object-state gauges: a collector over every kind's store, filled in
/// once the controllers have made their stores.
#[derive(Clone, Default)]
pub struct ObjectStates {
    kinds: Arc<RwLock<Vec<Arc<dyn Census>>>>,
}

impl std::fmt::Debug for ObjectStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStates").finish_non_exhaustive()
    }
}

impl ObjectStates {
    /// Counts `census`'s kind from now on (a kind added twice replaces itself:
    /// restarted controllers bring new stores).
    pub fn add(&self, census: Arc<dyn Census>) {
        let mut kinds = self.kinds.write().unwrap_or_else(|e| e.into_inner());
        kinds.retain(|k| k.kind() != census.kind());
        kinds.push(census);
    }

    /// Every kind's counts now.
    pub fn tallies(&self) -> Vec<(&'static str, Tally)> {
        let kinds = self.kinds.read().unwrap_or_else(|e| e.into_inner()).clone();
        let now = Timestamp::now();
        kinds
            .iter()
            .map(|census| {
                let mut tally = Tally::default();
                census.count(now, &mut tally);
                (census.kind(), tally)
            })
            .collect()
    }
}

impl Collector for ObjectStates {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let tallies = self.tallies();
        let per_kind = |f: fn(&Tally) -> i64| {
            let family = Family::<KindLabels, Gauge>::default();
            for (kind, tally) in &tallies {
                family.get_or_create(&KindLabels { kind }).set(f(tally));
            }
            family
        };
        let gauges: [(&str, &str, Family<KindLabels, Gauge>); 4] = [
            (
                "objects",
                "Objects of each kind in coffer's cache",
                per_kind(|t| t.objects),
            ),
            (
                "objects_ready",
                "Objects whose Ready condition is True",
                per_kind(|t| t.ready),
            ),
            (
                "objects_synced",
                "Objects whose Synced condition is True",
                per_kind(|t| t.synced),
            ),
            (
                "objects_drifted",
                "Objects whose status.drift lists at least one field",
                per_kind(|t| t.drifted),
            ),
        ];
        for (name, help, family) in gauges {
            family.encode(encoder.encode_descriptor(name, help, None, family.metric_type())?)?;
        }
        let by_condition = Family::<ConditionLabels, Gauge>::default();
        for (kind, tally) in &tallies {
            for ((condition, status, reason), n) in &tally.by_condition {
                by_condition
                    .get_or_create(&ConditionLabels {
                        kind,
                        condition,
                        status,
                        reason,
                    })
                    .set(*n);
            }
        }
        by_condition.encode(encoder.encode_descriptor(
            "objects_by_condition",
            "Objects by condition (Ready, Synced), its status and its reason (the kind's fixed set, else Other; None without the condition)",
            None,
            by_condition.metric_type(),
        )?)?;
        let longest = Family::<KindLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        for (kind, tally) in &tallies {
            longest
                .get_or_create(&KindLabels { kind })
                .set(tally.longest_not_ready);
        }
        longest.encode(encoder.encode_descriptor(
            "objects_not_ready_longest_seconds",
            "How long the object of this kind that has been not Ready longest has been so (0 when all are Ready)",
            None,
            longest.metric_type(),
        )?)?;
        Ok(())
    }
}

/// `coffer_object_time_to_ready_seconds{kind}`, observed from the watch:
/// when an object seen without any Ready condition (new, its status not
/// written yet) is later seen Ready, its Ready condition's
/// `lastTransitionTime` minus its `creationTimestamp`. Only those objects
/// are held, by a hash of their uid, until they are Ready: nothing is kept
/// for a Ready object, and an object that was Ready once and recovers from
/// a fault is not timed again (its Ready condition was there all along).
#[derive(Clone, Debug)]
pub struct TimeToReady {
    histograms: Family<KindLabels, Histogram>,
}

impl Default for TimeToReady {
    fn default() -> Self {
        Self {
            histograms: Family::new_with_constructor(|| {
                Histogram::new(TIME_TO_READY_BUCKETS.iter().copied())
            }),
        }
    }
}

impl TimeToReady {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "object_time_to_ready_seconds",
            "Seconds from an object's creation to its first Ready, by kind",
            self.histograms.clone(),
        );
    }

    /// The watcher of one kind.
    pub fn kind(&self, kind: &'static str) -> ReadyWatch {
        ReadyWatch {
            histogram: self.histograms.get_or_create(&KindLabels { kind }).clone(),
            pending: Arc::new(Mutex::new(HashSet::new())),
        }
    }
}

/// Sees one kind's watch events; see [`TimeToReady`].
#[derive(Clone)]
pub struct ReadyWatch {
    histogram: Histogram,
    /// Objects seen without a Ready condition and not seen Ready since.
    pending: Arc<Mutex<HashSet<u64>>>,
}

/// A drained set larger than this is shrunk: a burst of new objects leaves
/// nothing behind once they are Ready.
const SHRINK_ABOVE: usize = 1024;

impl ReadyWatch {
    /// Looks at one event of the kind's watch; `conditions` reads an
    /// object's conditions.
    /// A relisted object (`InitApply`, after a start or a watch restart)
    /// counts like any other: one that became Ready in the gap is timed.
    pub fn on_event<K: Resource>(&self, event: &Event<K>, conditions: fn(&K) -> &[Condition]) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Apply(obj) | Event::InitApply(obj) => {
                let ready = find(conditions(obj), READY);
                match ready {
                    None => {
                        pending.insert(uid_hash(obj));
                    }
                    Some(c) if c.status == "True" && pending.remove(&uid_hash(obj)) => {
                        if let Some(created) = obj.meta().creation_timestamp.as_ref() {
                            let since = c.last_transition_time.0.duration_since(created.0);
                            self.histogram.observe(since.as_secs_f64().max(0.0));
                        }
                    }
                    Some(_) => {}
                }
            }
            Event::Delete(obj) => {
                pending.remove(&uid_hash(obj));
            }
            Event::Init | Event::InitDone => {}
        }
        if pending.is_empty() && pending.capacity() > SHRINK_ABOVE {
            pending.shrink_to_fit();
        }
    }

    /// How many objects are waiting for their first Ready.
    pub fn pending(&self) -> usize {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn uid_hash<K: Resource>(obj: &K) -> u64 {
    let mut hasher = DefaultHasher::new();
    obj.meta().uid.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
#[path = "objects_tests.rs"]
mod tests;
