//! Leader election on a `coordination.k8s.io/v1` Lease, so several replicas
//! can run and exactly one acts. The holder renews every third of the lease
//! duration, each renewal bounded by the renew deadline (two thirds); if it
//! has not renewed by then, or sees another holder, it reports the lease
//! lost and the process exits rather than risk two leaders writing at once.
//! Every renewal also moves the leadership [`Fence`], which shuts at the
//! renew deadline by the clock alone: a leader woken from a pause acts no
//! more, even before this task runs. Expiry is judged by this process's own
//! clock (how long the holder's record has gone unchanged), not by comparing
//! timestamps written by another node's clock.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::args::RunArgs;
use crate::controller::engine::backoff::jittered;
use crate::fence::Fence;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("lease {0} was taken by {1}")]
    Taken(String, String),
    #[error(
        "lease {name} could not be renewed for {elapsed:?}: {last_error}; this replica stops acting and exits so that a standby can take over"
    )]
    RenewFailed {
        name: String,
        elapsed: Duration,
        last_error: String,
    },
    #[error("the lease renewal task stopped: {0}")]
    TaskEnded(String),
}

/// `coffer_leader`: 1 while this replica holds the Lease (or runs without
/// leader election, when every replica acts), else 0; across the replicas
/// of one deployment its sum is 1 when all is well.
#[derive(Clone, Debug, Default)]
pub struct LeaderMetric(prometheus_client::metrics::gauge::Gauge);

impl LeaderMetric {
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "leader",
            "Whether this replica leads: holds the leader-election Lease, or runs without leader election (1), or waits (0)",
            self.0.clone(),
        );
    }

    pub fn set(&self, leading: bool) {
        self.0.set(i64::from(leading));
    }
}

/// Which Lease, and who this replica is.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    pub duration: Duration,
}

impl LeaseConfig {
    pub fn from_args(args: &RunArgs) -> Self {
        let identity = args.leader_election_identity.clone().unwrap_or_else(|| {
            // Unique even for two replicas on one host.
            format!("coffer-{}", uuid::Uuid::new_v4())
        });
        Self {
            namespace: args.leader_election_namespace.clone(),
            name: args.leader_election_lease.clone(),
            identity,
            duration: args.leader_election_lease_duration,
        }
    }

    fn renew_period(&self) -> Duration {
        self.duration / 3
    }

    /// How often a standby looks at the lease: as client-go's 2 s retry
    /// period is to its 15 s lease, so a released lease is taken within about
    /// two seconds, at the cost of one GET that often per standby.
    fn retry_period(&self) -> Duration {
        self.duration * 2 / 15
    }

    /// How long after the start of its last renewal the holder still
    /// acts: a third of the lease before a standby may take it over.
    pub fn renew_deadline(&self) -> Duration {
        self.duration * 2 / 3
    }
}

/// A held lease, renewed in the background.
pub struct Leadership {
    api: Api<Lease>,
    config: LeaseConfig,
    fence: Fence,
    renewer: JoinHandle<Error>,
}

impl Leadership {
    /// Waits until this replica holds the lease, and opens `fence` (a
    /// [`Fence::until_renewed`] with [`LeaseConfig::renew_deadline`]) for
    /// as long as it keeps it.
    pub async fn acquire(client: Client, config: LeaseConfig, fence: Fence) -> Result<Self, Error> {
        let api: Api<Lease> = Api::namespaced(client, &config.namespace);
        let mut watch = HolderWatch::default();
        tracing::info!(lease = %config.name, identity = %config.identity, "waiting for the lease");
        let claimed = loop {
            let started = Instant::now();
            let wait = match try_claim(&api, &config, &mut watch).await {
                Ok(true) => break started,
                Ok(false) => config.retry_period(),
                Err(error) => {
                    // A refusal (RBAC, say) names what is missing; it is
                    // said every renew period, not every retry.
                    tracing::warn!(%error, "could not read or claim the lease");
                    config.renew_period()
                }
            };
            tokio::time::sleep(jittered(wait)).await;
        };
        // A claim answered after its own deadline leaves the fence shut, and
        // the renewal task gives up at once.
        fence.renewed(claimed);
        tracing::info!(lease = %config.name, identity = %config.identity, "leading");
        let renewer = tokio::spawn({
            let (api, config, fence) = (api.clone(), config.clone(), fence.clone());
            async move {
                let lost = renew(api, config, &fence, claimed).await;
                fence.close();
                lost
            }
        });
        Ok(Self {
            api,
            config,
            fence,
            renewer,
        })
    }

    /// Resolves when the lease is lost.
    pub async fn lost(&mut self) -> Error {
        match (&mut self.renewer).await {
            Ok(error) => error,
            Err(join) => Error::TaskEnded(join.to_string()),
        }
    }

    /// Gives the lease up on a clean shutdown so a standby takes over at once.
    pub async fn release(self) {
        self.renewer.abort();
        // Nothing acts once the lease may be someone else's.
        self.fence.close();
        let Ok(Some(mut lease)) = self.api.get_opt(&self.config.name).await else {
            return;
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        if spec.holder_identity.as_deref() != Some(&self.config.identity) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        if let Err(error) = self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            tracing::warn!(%error, "could not release the lease");
        }
    }
}

/// When this process first saw the current holder record; a record that
/// has not changed for a whole lease duration has expired.
#[derive(Default)]
struct HolderWatch {
    record: Option<(Option<String>, Option<MicroTime>)>,
    since: Option<Instant>,
}

impl HolderWatch {
    fn expired(&mut self, spec: &LeaseSpec, duration: Duration) -> bool {
        let record = (spec.holder_identity.clone(), spec.renew_time.clone());
        if self.record.as_ref() != Some(&record) {
            self.record = Some(record);
            self.since = Some(Instant::now());
        }
        self.since.is_some_and(|since| since.elapsed() > duration)
    }
}

async fn try_claim(
    api: &Api<Lease>,
    config: &LeaseConfig,
    watch: &mut HolderWatch,
) -> Result<bool, kube::Error> {
    let now = Timestamp::now();
    let Some(mut lease) = api.get_opt(&config.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(config.name.clone()),
                namespace: Some(config.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: claim(None, config, false, now),
        };
        return conflict_is_false(api.create(&PostParams::default(), &lease).await);
    };
    let current = lease.spec.clone().unwrap_or_default();
    let lease_duration = Duration::from_secs(
        u64::try_from(current.lease_duration_seconds.unwrap_or(0)).unwrap_or(0),
    );
    let expired = watch.expired(&current, lease_duration);
    let Some(spec) = claim(Some(&current), config, expired, now) else {
        return Ok(false);
    };
    lease.spec = Some(spec);
    // The resourceVersion in `lease` makes this fail if someone else won.
    conflict_is_false(
        api.replace(&config.name, &PostParams::default(), &lease)
            .await,
    )
}

/// The lease spec that makes this replica the holder, or `None` while
/// another holder's lease is valid.
fn claim(
    current: Option<&LeaseSpec>,
    config: &LeaseConfig,
    expired: bool,
    now: Timestamp,
) -> Option<LeaseSpec> {
    let holder = current.and_then(|s| s.holder_identity.as_deref());
    let mine = holder == Some(config.identity.as_str());
    let free = holder.is_none_or(str::is_empty);
    if !(mine || free || expired) {
        return None;
    }
    let transitions = current.and_then(|s| s.lease_transitions).unwrap_or(0);
    // A hand-over from another holder is a transition; a first claim is not.
    let taken_over = !mine && !free;
    Some(LeaseSpec {
        holder_identity: Some(config.identity.clone()),
        lease_duration_seconds: Some(i32::try_from(config.duration.as_secs()).unwrap_or(15)),
        acquire_time: if mine {
            current.and_then(|s| s.acquire_time.clone())
        } else {
            Some(MicroTime(now))
        },
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(if taken_over {
            transitions + 1
        } else {
            transitions
        }),
        ..LeaseSpec::default()
    })
}

fn conflict_is_false(result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
    match result {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Renews until the lease is lost, and says why: each renewal bounded by
/// the renew deadline counted from the start of the last one that worked,
/// a failed one retried after the retry period. `last_renewal` is when the
/// claim that won the lease started.
async fn renew(api: Api<Lease>, config: LeaseConfig, fence: &Fence, last: Instant) -> Error {
    let mut last_renewal = last;
    let mut next = last_renewal + config.renew_period();
    let mut last_error = None;
    loop {
        let deadline = last_renewal + config.renew_deadline();
        tokio::time::sleep_until(next.min(deadline)).await;
        let failed = |last_error: Option<String>| Error::RenewFailed {
            name: config.name.clone(),
            elapsed: last_renewal.elapsed(),
            last_error: last_error.unwrap_or_else(|| {
                "this process did not run in time to renew (was it paused, or starved of CPU?)"
                    .into()
            }),
        };
        if Instant::now() >= deadline {
            return failed(last_error);
        }
        let started = Instant::now();
        match tokio::time::timeout_at(deadline, renew_once(&api, &config)).await {
            Ok(Ok(Ok(()))) if fence.renewed(started) => {
                last_renewal = started;
                next = started + config.renew_period();
                last_error = None;
            }
            // The answer came, but after the fence had shut.
            Ok(Ok(Ok(()))) => return failed(None),
            Ok(Ok(Err(holder))) => return Error::Taken(config.name.clone(), holder),
            Ok(Err(error)) => {
                tracing::warn!(%error, "lease renewal failed; retrying");
                last_error = Some(error.to_string());
                next = Instant::now() + config.retry_period();
            }
            Err(_) => {
                let error = "the API server did not answer within the renew deadline";
                return failed(Some(
                    last_error.map_or(error.into(), |e| format!("{error}; before that: {e}")),
                ));
            }
        }
    }
}

/// One renewal: `Err` when the lease holds another's name (or none).
async fn renew_once(
    api: &Api<Lease>,
    config: &LeaseConfig,
) -> Result<Result<(), String>, kube::Error> {
    let mut lease = api.get(&config.name).await?;
    let spec = lease.spec.get_or_insert_with(Default::default);
    match spec.holder_identity.as_deref() {
        Some(holder) if holder == config.identity => {}
        other => return Ok(Err(other.unwrap_or_default().to_string())),
    }
    spec.renew_time = Some(MicroTime(Timestamp::now()));
    api.replace(&config.name, &PostParams::default(), &lease)
        .await
        .map(|_| Ok(()))
}

#[cfg(test)]
#[path = "leader_tests.rs"]
mod tests;
