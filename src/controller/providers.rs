//! From a ProviderConfig and its Secret to a provider [`Session`]: reading
//! both from the watched caches, checking the Secret's keys, building every
//! API client of that cloud through one [`ProviderFactory`] (the seam where
//! tests inject fakes), and keeping one session per ProviderConfig so its
//! token caches outlive a reconcile. Credentials never reach a log line, an
//! Event or a status.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kube::ResourceExt;

pub mod allowed;
pub mod ca_bundle;
mod commvault;
mod error;
mod huawei;
mod keys;
mod rackspace;
mod secret;
pub mod source;
mod tls_reasons;

pub use self::commvault::CommvaultApis;
pub use self::huawei::resolve;
pub use self::keys::required_keys;
pub use self::rackspace::resolve_rackspace;
pub use self::source::Source;
pub use self::tls_reasons::TLS_REASONS;

use super::caches::{self, Caches};
use super::engine::SessionKey;
use crate::fence::Fence;
use crate::provider::ProviderError;
use crate::provider::budget::{BudgetLimits, BudgetMetrics, RateBudget};
use crate::provider::commvault::CommvaultConnection;
use crate::provider::endpoints::EndpointPolicy;
use crate::provider::huawei::iam::{HuaweiAgencies, IamAgencyApi};
use crate::provider::huawei::share::CbrShareApi;
use crate::provider::huawei::shares::HuaweiShares;
use crate::provider::huawei::{CbrVaultApi, HuaweiConnection, HuaweiVaults};
use crate::provider::metrics::ProviderMetrics;
use crate::provider::rackspace::{AgentVaultApi, RackspaceAgents, RackspaceConnection};

pub use error::Error;

/// Every Huawei Cloud API coffer uses, for one account and project.
pub struct HuaweiApis {
    /// CBR vaults.
    pub cbr: Arc<dyn CbrVaultApi>,
    /// CBR backup sharing (BackupShare, both sides).
    pub shares: Arc<dyn CbrShareApi>,
    /// Agency: IAM agencies and grants; `None` without `domainId`, which
    /// IAM needs and CBR does not.
    pub iam: Option<Arc<dyn IamAgencyApi>>,
}

/// Every Rackspace API coffer uses, for one account and region.
pub struct RackspaceApis {
    /// Cloud Backup agents and their vaults (BackupVault).
    pub agents: Arc<dyn AgentVaultApi>,
}

/// The clients of one ProviderConfig: every API of its cloud.
#[derive(Clone)]
pub enum Session {
    Huawei(Arc<HuaweiApis>),
    Commvault(Arc<CommvaultApis>),
    Rackspace(Arc<RackspaceApis>),
}

impl Session {
    /// The Huawei APIs, or an error naming the ProviderConfig's cloud.
    pub fn huawei(&self) -> Result<&HuaweiApis, Error> {
        match self {
            Self::Huawei(apis) => Ok(apis),
            _ => Err(self.wrong("huaweiCloud")),
        }
    }

    /// The Commvault APIs, or an error naming the ProviderConfig's cloud.
    pub fn commvault(&self) -> Result<&CommvaultApis, Error> {
        match self {
            Self::Commvault(apis) => Ok(apis),
            _ => Err(self.wrong("commvault")),
        }
    }

    /// The Rackspace APIs, or an error naming the ProviderConfig's cloud.
    pub fn rackspace(&self) -> Result<&RackspaceApis, Error> {
        match self {
            Self::Rackspace(apis) => Ok(apis),
            _ => Err(self.wrong("rackspace")),
        }
    }

    fn wrong(&self, wanted: &'static str) -> Error {
        let has = match self {
            Self::Huawei(_) => "huaweiCloud",
            Self::Commvault(_) => "commvault",
            Self::Rackspace(_) => "rackspace",
        };
        Error::WrongProvider { has, wanted }
    }

    /// One cheap authenticated call, to check that the credentials work.
    pub async fn check_credentials(&self) -> Result<(), ProviderError> {
        match self {
            Self::Huawei(apis) => apis.cbr.check_credentials().await,
            Self::Commvault(apis) => apis.vaults.check_credentials().await,
            Self::Rackspace(apis) => apis.agents.check_credentials().await,
        }
    }
}

/// Builds provider clients. The one place that knows which client type
/// serves which provider; tests swap it for fakes.
pub trait ProviderFactory: Send + Sync + 'static {
    /// Every Huawei Cloud client for one ProviderConfig, sharing what can be
    /// shared (HTTP connections, tokens).
    fn huawei(
        &self,
        conn: HuaweiConnection,
        budget: Arc<RateBudget>,
    ) -> Result<HuaweiApis, ProviderError>;

    /// Every Rackspace client for one ProviderConfig. By default the real
    /// HTTP clients, so a factory that fakes only Huawei still serves it.
    fn rackspace(
        &self,
        conn: RackspaceConnection,
        budget: Arc<RateBudget>,
    ) -> Result<RackspaceApis, ProviderError> {
        let metrics = Arc::new(ProviderMetrics::default());
        Ok(RackspaceApis {
            agents: Arc::new(RackspaceAgents::new(conn, metrics, budget)?),
        })
    }

    /// Every Commvault client for one ProviderConfig (one session token).
    fn commvault(
        &self,
        conn: CommvaultConnection,
        budget: Arc<RateBudget>,
    ) -> Result<CommvaultApis, ProviderError> {
        CommvaultApis::connect(conn, Arc::new(ProviderMetrics::default()), budget)
    }
}

/// The production factory: Huawei Cloud's CBR client, all clients sharing
/// one set of provider metrics.
#[derive(Debug, Default)]
pub struct HuaweiFactory {
    metrics: Arc<ProviderMetrics>,
}

impl HuaweiFactory {
    pub fn new(metrics: Arc<ProviderMetrics>) -> Self {
        Self { metrics }
    }
}

impl ProviderFactory for HuaweiFactory {
    fn huawei(
        &self,
        conn: HuaweiConnection,
        budget: Arc<RateBudget>,
    ) -> Result<HuaweiApis, ProviderError> {
        let iam = match conn.domain_id.is_some() {
            true => Some(Arc::new(HuaweiAgencies::new(
                &conn,
                self.metrics.clone(),
                budget.clone(),
            )?) as Arc<dyn IamAgencyApi>),
            false => None,
        };
        Ok(HuaweiApis {
            iam,
            shares: Arc::new(HuaweiShares::with_budget(
                conn.clone(),
                self.metrics.clone(),
                budget.clone(),
            )?),
            cbr: Arc::new(HuaweiVaults::with_budget(
                conn,
                self.metrics.clone(),
                budget,
            )?),
        })
    }

    fn rackspace(
        &self,
        conn: RackspaceConnection,
        budget: Arc<RateBudget>,
    ) -> Result<RackspaceApis, ProviderError> {
        Ok(RackspaceApis {
            agents: Arc::new(RackspaceAgents::new(conn, self.metrics.clone(), budget)?),
        })
    }

    fn commvault(
        &self,
        conn: CommvaultConnection,
        budget: Arc<RateBudget>,
    ) -> Result<CommvaultApis, ProviderError> {
        CommvaultApis::connect(conn, self.metrics.clone(), budget)
    }
}

/// What a cached client was built from. Generation, not resourceVersion, for
/// the config: its status changes must not throw the token away. The
/// Secret's and the CA's content, not their resourceVersion, for the same
/// reason: coffer's own in-use finalizer on them changes only metadata, and
/// must not cost a new sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fingerprint {
    config_uid: Option<String>,
    config_generation: Option<i64>,
    /// Where the Secret was read: a ClusterProviderConfig may move it.
    secret_namespace: String,
    secret_uid: Option<String>,
    secret_data: u64,
    /// The uid of the Secret or ConfigMap `caBundleRef` names and the CA it
    /// gave: a rotated CA builds a new client.
    ca: (Option<String>, u64),
}

struct Cached {
    fingerprint: Fingerprint,
    session: Session,
}

/// One session per ProviderConfig or ClusterProviderConfig, rebuilt only
/// when its spec or its Secret changes, and one rate budget per config,
/// kept across rebuilds while its limits stay the same.
pub struct ProviderClients {
    factory: Arc<dyn ProviderFactory>,
    /// The admin's allowed endpoints: a config's URLs outside it get no
    /// client, so no request and no credential.
    allowed: EndpointPolicy,
    clients: Mutex<HashMap<SessionKey, Cached>>,
    budgets: Mutex<HashMap<SessionKey, Arc<RateBudget>>>,
    budget_metrics: BudgetMetrics,
    /// Every budget checks it, so a leader past its renew deadline starts
    /// no provider call.
    fence: Fence,
}

impl ProviderClients {
    pub fn new(factory: Arc<dyn ProviderFactory>, budget_metrics: BudgetMetrics) -> Self {
        Self {
            factory,
            allowed: EndpointPolicy::default(),
            clients: Mutex::new(HashMap::new()),
            budgets: Mutex::new(HashMap::new()),
            budget_metrics,
            fence: Fence::open(),
        }
    }

    /// These clients, starting calls only while `fence` is open.
    pub fn fenced(self, fence: Fence) -> Self {
        Self { fence, ..self }
    }

    /// Allows the endpoints `allowed` names instead of the vendors' own.
    pub fn allowing(mut self, allowed: EndpointPolicy) -> Self {
        self.allowed = allowed;
        self
    }

    /// Refuses a config any of whose `urls` the admin does not allow.
    fn admit<'a>(
        &self,
        source: &Source,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), Error> {
        for url in urls {
            self.allowed
                .check(url)
                .map_err(|refused| Error::EndpointNotAllowed {
                    name: source.label.clone(),
                    refused,
                })?;
        }
        Ok(())
    }

    /// The rate budget of `source`, shared by all its calls.
    fn budget(&self, source: &Source) -> Arc<RateBudget> {
        let limits = source
            .spec
            .rate_limit
            .map_or(BudgetLimits::UNLIMITED, |r| BudgetLimits {
                qps: r.qps,
                burst: r.burst,
                max_in_flight: r.max_in_flight,
            });
        let mut budgets = self.budgets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(budget) = budgets.get(&source.key)
            && budget.limits() == limits
        {
            return budget.clone();
        }
        let budget = RateBudget::new(source.key.label(), limits, self.budget_metrics.clone());
        let budget = Arc::new(budget.fenced(self.fence.clone()));
        budgets.insert(source.key.clone(), budget.clone());
        budget
    }

    /// The session of ProviderConfig `name` in `namespace`, from the caches.
    pub fn session(&self, caches: &Caches, namespace: &str, name: &str) -> Result<Session, Error> {
        let pc = caches.provider_config(namespace, name).ok_or_else(|| {
            Error::ProviderConfigNotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
            }
        })?;
        self.session_for(caches, &Source::namespaced(&pc))
    }

    /// The session `source` defines, reading its Secret from the caches.
    pub fn session_for(&self, caches: &Caches, source: &Source) -> Result<Session, Error> {
        let namespace = source.namespace.as_str();
        let secret_name = source
            .spec
            .secret_name()
            .ok_or_else(|| Error::NoProviderBlock {
                name: source.label.clone(),
            })?;
        let Some(secret) = caches.secret(namespace, secret_name) else {
            // Deleted together with the config (`kubectl delete -f` on a
            // whole directory): the objects still being cleaned up keep
            // the session built while the Secret existed.
            if source.deleting
                && let Some(cached) = self.cached(&source.key)
            {
                return Ok(cached);
            }
            return Err(Error::SecretNotFound {
                namespace: namespace.to_string(),
                name: secret_name.to_string(),
            });
        };
        let ca = match ca_bundle::resolve(caches, namespace, source.spec.ca_source()) {
            Ok(ca) => ca,
            Err(error) => {
                // Deleted together with the CA's object, as with the Secret above.
                if source.deleting
                    && let Some(cached) = self.cached(&source.key)
                {
                    return Ok(cached);
                }
                return Err(error);
            }
        };
        let fingerprint = Fingerprint {
            config_uid: source.uid.clone(),
            config_generation: source.generation,
            secret_namespace: namespace.to_string(),
            secret_uid: secret.uid(),
            secret_data: caches::secret_digest(&secret),
            ca: (ca.version.and_then(|(uid, _)| uid), caches::digest(&ca.pem)),
        };
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cached) = clients.get(&source.key)
            && cached.fingerprint == fingerprint
        {
            return Ok(cached.session.clone());
        }
        let budget = self.budget(source);
        let failed = |source_error| Error::Client {
            name: source.label.clone(),
            source: source_error,
        };
        let session = match (&source.spec.commvault, &source.spec.rackspace) {
            (Some(_), _) => {
                let conn = CommvaultConnection {
                    ca_bundle: ca.pem,
                    ..commvault::resolve(source, &secret)?
                };
                self.admit(source, [conn.api_url.as_str()])?;
                let apis = self.factory.commvault(conn, budget).map_err(failed)?;
                Session::Commvault(Arc::new(apis))
            }
            (None, Some(_)) => {
                let conn = RackspaceConnection {
                    ca_bundle: ca.pem,
                    allowed: self.allowed.clone(),
                    ..resolve_rackspace(source, &secret)?
                };
                self.admit(source, [conn.identity_endpoint.as_str()])?;
                let apis = self.factory.rackspace(conn, budget).map_err(failed)?;
                Session::Rackspace(Arc::new(apis))
            }
            (None, None) => {
                let conn = HuaweiConnection {
                    ca_bundle: ca.pem,
                    ..resolve(source, &secret)?
                };
                self.admit(
                    source,
                    [conn.iam_endpoint.as_str(), conn.cbr_endpoint.as_str()],
                )?;
                let apis = self.factory.huawei(conn, budget).map_err(failed)?;
                Session::Huawei(Arc::new(apis))
            }
        };
        clients.insert(
            source.key.clone(),
            Cached {
                fingerprint,
                session: session.clone(),
            },
        );
        Ok(session)
    }

    fn cached(&self, key: &SessionKey) -> Option<Session> {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .map(|c| c.session.clone())
    }

    /// Drops the session and budget of a config that no longer exists.
    pub fn forget(&self, key: &SessionKey) {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        self.budgets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
#[path = "providers_tests.rs"]
mod tests;
