//! The controllers end to end on the real API server, with the provider kept
//! in memory ([`MemoryVaults`]) so each test controls and counts every
//! provider call. Each test runs its own controllers in-process, watching
//! only its own namespace.

mod backup_vault;
mod leader;
mod provider_config;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use coffer::api::{BackupVault, ProviderConfig};
use coffer::controller::{Metrics, ProviderFactory, Settings, run_with};
use coffer::provider::huawei::HuaweiConnection;
use coffer::provider::memory::MemoryVaults;
use coffer::provider::{ProviderError, VaultApi};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, PostParams};
use tokio::task::JoinHandle;

use crate::support::env;

/// How long any one expectation may take to come true.
pub const PATIENCE: Duration = Duration::from_secs(60);
/// The drift-check period the test controllers run with.
pub const RESYNC: Duration = Duration::from_secs(1);

/// Hands every ProviderConfig the same in-memory provider.
struct Shared(Arc<MemoryVaults>);

impl ProviderFactory for Shared {
    fn vaults(&self, _conn: HuaweiConnection) -> Result<Arc<dyn VaultApi>, ProviderError> {
        Ok(self.0.clone())
    }
}

/// Controllers running in this process for one test namespace. Dropping it
/// stops them.
pub struct Running {
    pub client: kube::Client,
    pub ns: String,
    pub provider: Arc<MemoryVaults>,
    pub metrics: Arc<Metrics>,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    /// A namespace with a labelled credentials Secret, a ProviderConfig
    /// `cloud` using it, and the controllers watching it.
    pub async fn start(prefix: &str) -> Self {
        let env = env();
        let client = env.client().await;
        let ns = env.namespace(prefix).await;
        let running = Self::start_in(client, ns).await;
        running
            .create_secret("creds", &[("accessKey", "AK"), ("secretKey", "SK")])
            .await;
        running.create_provider_config("cloud", "creds").await;
        running
    }

    /// The controllers alone, for tests that set up references themselves.
    pub async fn start_in(client: kube::Client, ns: String) -> Self {
        let provider = Arc::new(MemoryVaults::new());
        let metrics = Arc::new(Metrics::default());
        let settings = Settings {
            resync_interval: RESYNC,
            watch_namespace: Some(ns.clone()),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            poll_interval: Duration::from_millis(500),
            settle_time: Duration::from_secs(5),
            ..Settings::default()
        };
        let task = tokio::spawn({
            let (client, provider, metrics) = (client.clone(), provider.clone(), metrics.clone());
            async move {
                if let Err(e) =
                    run_with(client, settings, Arc::new(Shared(provider)), metrics).await
                {
                    panic!("the controllers stopped: {e}");
                }
            }
        });
        Self {
            client,
            ns,
            provider,
            metrics,
            task,
        }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub async fn create_secret(&self, name: &str, data: &[(&str, &str)]) {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"coffer.dev/credentials": "true"}},
            "stringData": data.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .expect("secret");
        self.api::<Secret>()
            .create(&PostParams::default(), &secret)
            .await
            .expect("creating the Secret");
    }

    pub async fn create_provider_config(&self, name: &str, secret: &str) {
        let pc: ProviderConfig = serde_json::from_value(serde_json::json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": name},
            "spec": {"huaweiCloud": {
                "region": "ap-southeast-1",
                "projectId": "0123456789abcdef0123456789abcdef",
                "credentials": {"type": "AccessKey", "secretRef": {"name": secret}},
            }},
        }))
        .expect("provider config");
        self.api::<ProviderConfig>()
            .create(&PostParams::default(), &pc)
            .await
            .expect("creating the ProviderConfig");
    }

    /// Creates a BackupVault named `name` for a vault of the same name, with
    /// `extra` merged into its `huaweiCloud` block.
    pub async fn create_vault(&self, name: &str, extra: serde_json::Value) -> BackupVault {
        let mut huawei = serde_json::json!({
            "name": name,
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server",
                        "protectType": "backup", "size": 100},
        });
        if let (Some(base), Some(extra)) = (huawei.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        let bv: BackupVault = serde_json::from_value(serde_json::json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
            "metadata": {"name": name},
            "spec": {"providerConfigRef": {"name": "cloud"}, "huaweiCloud": huawei},
        }))
        .expect("backup vault");
        self.api::<BackupVault>()
            .create(&PostParams::default(), &bv)
            .await
            .expect("creating the BackupVault")
    }

    /// The BackupVault once `ready` says it is, or a failure naming `what`.
    pub async fn vault_when(
        &self,
        name: &str,
        what: &str,
        ready: impl Fn(&BackupVault) -> bool,
    ) -> BackupVault {
        let api = self.api::<BackupVault>();
        eventually(what, || async {
            api.get_opt(name)
                .await
                .ok()
                .flatten()
                .filter(|bv| ready(bv))
        })
        .await
    }

    /// Reasons of the Events about object `name`.
    pub async fn event_reasons(&self, name: &str) -> Vec<String> {
        self.api::<Event>()
            .list(&ListParams::default())
            .await
            .expect("listing Events")
            .items
            .into_iter()
            .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
            .filter_map(|e| e.reason)
            .collect()
    }
}

/// Status and reason of condition `type_`.
pub fn condition(bv: &BackupVault, type_: &str) -> Option<(String, String, String)> {
    bv.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// True once the vault is Ready and Synced.
pub fn is_ready(bv: &BackupVault) -> bool {
    let true_ = |t| condition(bv, t).is_some_and(|(s, _, _)| s == "True");
    true_("Ready") && true_("Synced") && bv.status.as_ref().is_some_and(|s| s.external_id.is_some())
}

/// Polls `check` until it gives a value, failing the test with `what` after [`PATIENCE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
