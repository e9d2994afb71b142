//! Leader election on a `coordination.k8s.io/v1` Lease, so several replicas
//! can run and exactly one acts. The holder renews every third of the lease
//! duration; if it cannot renew within two thirds, or sees another holder,
//! it reports the lease lost and the process exits rather than risk two
//! leaders writing at once. Expiry is judged by this process's own clock
//! (how long the holder's record has gone unchanged), not by comparing
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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("lease {0} was taken by {1}")]
    Taken(String, String),
    #[error("lease {name} could not be renewed for {elapsed:?}: {last_error}")]
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

    fn renew_deadline(&self) -> Duration {
        self.duration * 2 / 3
    }
}

/// A held lease, renewed in the background.
pub struct Leadership {
    api: Api<Lease>,
    config: LeaseConfig,
    renewer: JoinHandle<Error>,
}

impl Leadership {
    /// Waits until this replica holds the lease.
    pub async fn acquire(client: Client, config: LeaseConfig) -> Result<Self, Error> {
        let api: Api<Lease> = Api::namespaced(client, &config.namespace);
        let mut watch = HolderWatch::default();
        tracing::info!(lease = %config.name, identity = %config.identity, "waiting for the lease");
        loop {
            let wait = match try_claim(&api, &config, &mut watch).await {
                Ok(true) => break,
                Ok(false) => config.retry_period(),
                Err(error) => {
                    // A refusal (RBAC, say) names what is missing; it is
                    // said every renew period, not every retry.
                    tracing::warn!(%error, "could not read or claim the lease");
                    config.renew_period()
                }
            };
            tokio::time::sleep(jittered(wait)).await;
        }
        tracing::info!(lease = %config.name, identity = %config.identity, "leading");
        let renewer = tokio::spawn(renew(api.clone(), config.clone()));
        Ok(Self {
            api,
            config,
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

/// Renews until the lease is lost, and says why.
async fn renew(api: Api<Lease>, config: LeaseConfig) -> Error {
    let mut last_renewal = Instant::now();
    loop {
        tokio::time::sleep(config.renew_period()).await;
        let result = async {
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
        .await;
        match result {
            Ok(Ok(())) => last_renewal = Instant::now(),
            Ok(Err(holder)) => return Error::Taken(config.name.clone(), holder),
            Err(error) if last_renewal.elapsed() >= config.renew_deadline() => {
                return Error::RenewFailed {
                    name: config.name.clone(),
                    elapsed: last_renewal.elapsed(),
                    last_error: error.to_string(),
                };
            }
            Err(error) => tracing::warn!(%error, "lease renewal failed; retrying"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(identity: &str) -> LeaseConfig {
        LeaseConfig {
            namespace: "coffer-system".into(),
            name: "coffer-leader".into(),
            identity: identity.into(),
            duration: Duration::from_secs(15),
        }
    }

    fn held_by(holder: &str) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            lease_transitions: Some(3),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn a_valid_lease_of_another_is_not_taken() {
        assert!(claim(Some(&held_by("b")), &config("a"), false, Timestamp::now()).is_none());
    }

    #[test]
    fn an_expired_lease_is_taken_over() {
        let spec =
            claim(Some(&held_by("b")), &config("a"), true, Timestamp::now()).expect("claimed");
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!(spec.lease_transitions, Some(4));
    }

    #[test]
    fn a_released_lease_is_free() {
        let mut released = held_by("b");
        released.holder_identity = None;
        assert!(claim(Some(&released), &config("a"), false, Timestamp::now()).is_some());
    }

    #[test]
    fn a_first_claim_is_not_a_transition() {
        let spec = claim(None, &config("a"), false, Timestamp::now()).expect("claimed");
        assert_eq!(spec.lease_transitions, Some(0));
    }

    #[test]
    fn renewing_own_lease_is_not_a_transition() {
        let spec =
            claim(Some(&held_by("a")), &config("a"), false, Timestamp::now()).expect("renewed");
        assert_eq!(spec.lease_transitions, Some(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_holder_record_unchanged_for_a_lease_duration_expires() {
        let mut watch = HolderWatch::default();
        let spec = held_by("b");
        let duration = Duration::from_secs(15);
        assert!(!watch.expired(&spec, duration));
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(!watch.expired(&spec, duration));
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(watch.expired(&spec, duration));
    }
}
