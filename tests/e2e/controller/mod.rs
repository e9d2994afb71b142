//! The controllers end to end: the real API server, the real Huawei client,
//! and coffer's CBR emulator as the cloud, so every provider call is signed,
//! sent over HTTP and counted. Each test runs its own controllers and its
//! own emulator in-process, watching only its own namespace.

mod agency;
mod agency_create;
mod agency_listing;
mod argocd_live;
mod backup_share;
mod backup_share_answer;
mod backup_share_refusals;
mod backup_vault;
mod cluster_config;
mod cluster_config_tenants;
mod collected;
mod commvault_vault;
mod deletes;
mod endpoints;
mod engine;
mod engine_create;
mod engine_toy;
mod engine_toy_limits;
mod failing;
mod leader;
mod leader_fence;
mod listing;
mod operating;
mod plugin;
mod plugin_trace;
mod provider_config;
mod quiet;
mod quiet_start;
mod rackspace;
mod rackspace_process;
mod rate_budget;
mod readiness;
mod shutdown;
mod starvation;
mod teardown;
mod teardown_ca;
mod tls;
mod tls_failures;
mod warm_standby;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use coffer::api::{BackupVault, ProviderConfig};
use coffer::controller::{HuaweiFactory, Metrics, Settings, run_with};
use coffer::emulator::{self, EmulatorConfig, RecordedRequest, RunningEmulator};
use coffer::provider::endpoints::EndpointPolicy;
use coffer::provider::huawei::{HuaweiConnection, HuaweiCredentials, HuaweiVaults};
use coffer::provider::metrics::ProviderMetrics;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, PostParams};
use tokio::task::JoinHandle;

use crate::support::env;

/// How long any one expectation may take to come true.
pub const PATIENCE: Duration = Duration::from_secs(60);
/// The drift-check period the test controllers run with.
pub const RESYNC: Duration = Duration::from_secs(1);

/// Controllers and an emulator running in this process for one test
/// namespace. Dropping it stops the controllers.
pub struct Running {
    pub client: kube::Client,
    pub ns: String,
    pub emulator: RunningEmulator,
    /// A client of its own, to change the cloud behind the controllers' back.
    pub cbr: HuaweiVaults,
    pub metrics: Arc<Metrics>,
    settings: Settings,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        // The controllers never end by themselves: one that did (a panic,
        // an error) ran none of what the test then found "did not happen".
        let ended = self.task.is_finished();
        self.task.abort();
        if ended && !std::thread::panicking() {
            panic!("coffer's controllers ended before the test did; see the log above");
        }
        // What the emulator issued must not show anywhere either.
        let issued = self.emulator.rackspace_credentials_issued();
        for token in issued.iter().chain(&self.emulator.commvault_tokens()) {
            crate::support::credentials::remember(token);
        }
    }
}

/// This test's emulator and nothing else, as an admin allows a private
/// endpoint: over HTTP, and over HTTPS by its IP and by the DNS name its
/// certificate carries.
fn emulator_endpoints(emulator: &RunningEmulator) -> Vec<String> {
    let mut urls = vec![emulator.base_url()];
    if let Some(https) = emulator.https_url() {
        urls.push(https.replace("127.0.0.1", "localhost"));
        urls.push(https);
    }
    urls
}

/// The emulator's credentials, for the credentials check at the end.
fn remember_credentials(c: &EmulatorConfig) {
    use crate::support::credentials::remember;
    for value in [
        &c.access_key,
        &c.secret_key,
        &c.password,
        &c.peer_access_key,
        &c.peer_secret_key,
        &c.commvault_password,
        &c.rackspace.api_key,
        &c.rackspace.password,
    ] {
        remember(value);
    }
}

impl Running {
    /// A namespace with a labelled credentials Secret, a ProviderConfig
    /// `cloud` using it, and the controllers watching it.
    pub async fn start(prefix: &str) -> Self {
        Self::start_with(prefix, |_| {}).await
    }

    /// Like [`Self::start`], with `configure` changing the controllers'
    /// settings first (a long resync, a slow backoff).
    pub async fn start_with(prefix: &str, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::start_instead(prefix, configure, coffers_controllers).await
    }

    /// Like [`Self::start_with`], but runs `controllers` instead of coffer's
    /// own: for a test that needs a controller coffer does not ship.
    pub async fn start_instead<F, Fut>(
        prefix: &str,
        configure: impl FnOnce(&mut Settings),
        controllers: F,
    ) -> Self
    where
        F: FnOnce(kube::Client, Settings, Arc<Metrics>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let running = Self::launch(prefix, configure, controllers).await;
        let c = running.emulator.config().clone();
        running
            .create_secret(
                "creds",
                &[("accessKey", &c.access_key), ("secretKey", &c.secret_key)],
            )
            .await;
        running.create_provider_config("cloud", "creds").await;
        running
    }

    /// The emulator and the controllers, without a Secret or ProviderConfig.
    pub async fn start_bare(prefix: &str) -> Self {
        Self::launch(prefix, |_| {}, coffers_controllers).await
    }

    /// [`Self::start_bare`] with `configure` changing the settings first.
    pub async fn start_bare_with(prefix: &str, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::launch(prefix, configure, coffers_controllers).await
    }

    /// The namespace, the emulator and `controllers`, given the tests'
    /// settings as `configure` changed them.
    async fn launch<F, Fut>(
        prefix: &str,
        configure: impl FnOnce(&mut Settings),
        controllers: F,
    ) -> Self
    where
        F: FnOnce(kube::Client, Settings, Arc<Metrics>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let env = env();
        let client = env.client().await;
        let ns = env.namespace(prefix).await;
        let emulator = emulator::start(EmulatorConfig {
            delete_delay: Duration::from_millis(300),
            association_delay: Duration::from_millis(300),
            // HTTPS beside HTTP, for the tests in `tls`.
            tls: Some(emulator::TlsConfig::loopback()),
            ..EmulatorConfig::default()
        })
        .await
        .expect("the emulator starts");
        remember_credentials(emulator.config());
        let metrics = Arc::new(Metrics::default());
        let allowed_endpoints =
            EndpointPolicy::parse(emulator_endpoints(&emulator).iter().map(String::as_str))
                .expect("the emulator's URLs are valid patterns");
        let mut settings = Settings {
            allowed_endpoints,
            resync_interval: RESYNC,
            watch_namespaces: vec![ns.clone()],
            // The namespace coffer "runs in": where a ClusterProviderConfig
            // without credentialsNamespace finds its Secret.
            home_namespace: ns.clone(),
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            poll_interval: Duration::from_millis(300),
            settle_time: Duration::from_secs(5),
            ..Settings::default()
        };
        configure(&mut settings);
        let task = tokio::spawn(controllers(
            client.clone(),
            settings.clone(),
            metrics.clone(),
        ));
        let c = emulator.config();
        let cbr = HuaweiVaults::new(
            HuaweiConnection {
                region: c.region.clone(),
                project_id: c.project_id.clone(),
                domain_id: None,
                iam_endpoint: emulator.base_url(),
                cbr_endpoint: emulator.base_url(),
                ca_bundle: None,
                credentials: HuaweiCredentials::AccessKey {
                    access_key: c.access_key.clone(),
                    secret_key: c.secret_key.clone(),
                },
            },
            Arc::new(ProviderMetrics::default()),
        )
        .expect("test client");
        Self {
            client,
            ns,
            emulator,
            cbr,
            metrics,
            settings,
            task,
        }
    }

    /// Kills coffer's controllers, as a crash or an eviction would, and
    /// starts new ones with the same settings, caches empty.
    pub async fn restart_controllers(&mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
        self.task = tokio::spawn(coffers_controllers(
            self.client.clone(),
            self.settings.clone(),
            Arc::new(Metrics::default()),
        ));
    }

    /// `--allowed-endpoints` for a `coffer run` of this test: its emulator.
    pub fn allowed_endpoints_flag(&self) -> String {
        format!(
            "--allowed-endpoints={}",
            emulator_endpoints(&self.emulator).join(",")
        )
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

    /// A ProviderConfig pointing at the emulator.
    pub async fn create_provider_config(&self, name: &str, secret: &str) {
        let c = self.emulator.config();
        let pc: ProviderConfig = serde_json::from_value(serde_json::json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": name},
            "spec": {"huaweiCloud": {
                "region": c.region,
                "projectId": c.project_id,
                "endpoints": {"iam": self.emulator.base_url(), "cbr": self.emulator.base_url()},
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
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let bv = api.get_opt(name).await.ok().flatten();
            if let Some(bv) = bv.as_ref().filter(|bv| ready(bv)) {
                return bv.clone();
            }
            // What the vault last showed is what explains the wait.
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out after {PATIENCE:?} waiting for: {what}; last seen: {}",
                serde_json::to_string(&bv).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates BackupVault `name` (see [`Self::create_vault`]), waits until it
    /// is Ready, and returns the vault's id.
    /// Waits until BackupVault `name` is gone from the API server.
    pub async fn vault_gone(&self, name: &str) {
        eventually(&format!("BackupVault {name} is gone"), || async {
            self.api::<BackupVault>()
                .get_opt(name)
                .await
                .expect("reading the BackupVault")
                .is_none()
                .then_some(())
        })
        .await;
    }

    pub async fn ready_vault(&self, name: &str, extra: serde_json::Value) -> String {
        self.create_vault(name, extra).await;
        let bv = self
            .vault_when(name, &format!("{name} Ready"), is_ready)
            .await;
        bv.status
            .and_then(|s| s.external_id)
            .expect("a Ready vault has an externalId")
    }

    /// Whether an Event with `reason` was published about object `name`.
    pub async fn has_event(&self, name: &str, reason: &str) -> bool {
        self.event_reasons(name).await.iter().any(|r| r == reason)
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

    /// Every write request the emulator received after request `after`
    /// (a `seq`), failed or not.
    pub fn writes_after(&self, after: u64) -> Vec<RecordedRequest> {
        self.emulator
            .requests(None)
            .into_iter()
            .filter(|r| r.seq > after && r.operation.mutates())
            .collect()
    }

    /// The `seq` of the last request the emulator received.
    pub fn last_seq(&self) -> u64 {
        self.emulator.requests(None).last().map_or(0, |r| r.seq)
    }

    /// How many vaults the emulator holds.
    pub fn vault_count(&self) -> u64 {
        self.emulator.vaults()["count"].as_u64().unwrap_or(0)
    }
}

/// coffer's own controllers, as `coffer run` runs them.
async fn coffers_controllers(client: kube::Client, settings: Settings, metrics: Arc<Metrics>) {
    let factory = Arc::new(HuaweiFactory::new(Arc::new(ProviderMetrics::default())));
    if let Err(e) = run_with(client, settings, factory, metrics).await {
        panic!("the controllers stopped: {e}");
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
