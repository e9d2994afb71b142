//! What a run stands on: a real kube-apiserver and etcd, coffer's CRDs, the
//! emulator, and per namespace a credentials Secret and a ProviderConfig.
//! Also the objects a run creates: a mix of every kind the emulator can
//! serve without other setup (BackupVaults, and every tenth an Agency).

use std::sync::Arc;
use std::time::{Duration, Instant};

use coffer::api::{Agency, BackupVault, ProviderConfig};
use coffer::controlplane::{ControlPlane, Options, crds};
use coffer::emulator::{self, EmulatorConfig, RunningEmulator};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

/// Every `AGENCY_EVERY`th object is an Agency, the rest BackupVaults.
pub const AGENCY_EVERY: usize = 10;
/// Creates in flight at once, as a CI job or Argo CD applying a folder would.
pub const PARALLEL_CREATES: usize = 16;

/// Whether the cluster runs kube-controller-manager, as `make test` and
/// `make demo` do: `COFFER_BENCH_CONTROLLER_MANAGER=0` turns it off, to
/// compare (its garbage collector watches every kind, coffer's too).
pub fn controller_manager() -> bool {
    super::env("COFFER_BENCH_CONTROLLER_MANAGER", 1u8) != 0
}

pub struct Cluster {
    pub cp: ControlPlane,
    pub client: kube::Client,
    pub emu: Arc<RunningEmulator>,
}

fn manifest<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("a valid manifest")
}

impl Cluster {
    /// Starts everything, keeping the control plane's and the operators'
    /// logs in `dir` (emptied first) for a look after the run.
    pub async fn start(dir: &std::path::Path) -> Cluster {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("the run's directory");
        let options = Options {
            controller_manager: controller_manager(),
            // 100,000 objects, their Events, the floors' and the revisions
            // between compactions outgrow etcd's default 2 GiB; 8 GiB is
            // what large clusters set (etcd's suggested maximum).
            etcd_quota_bytes: Some(8 << 30),
        };
        let cp = ControlPlane::start_with(Some(dir), options)
            .await
            .expect("control plane");
        println!(
            "scale: control plane ready in {:.1}s (kube-controller-manager: {})",
            (cp.start_times.apiserver + cp.start_times.controller_manager).as_secs_f64(),
            match cp.has_controller_manager() {
                true => format!("{:.1}s", cp.start_times.controller_manager.as_secs_f64()),
                false => "off".into(),
            }
        );
        let client = cp.client().await.expect("client");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        crds::install(&client, &crds::read_dir(&dir).expect("crds"))
            .await
            .expect("installing CRDs");
        let emu = emulator::start(EmulatorConfig {
            request_log_capacity: 1,
            delete_delay: Duration::from_millis(100),
            association_delay: Duration::from_millis(100),
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        Cluster {
            cp,
            client,
            emu: Arc::new(emu),
        }
    }

    /// An empty namespace.
    pub async fn bare_namespace(&self, name: &str) {
        Api::<Namespace>::all(self.client.clone())
            .create(
                &PostParams::default(),
                &manifest(json!({"metadata": {"name": name}})),
            )
            .await
            .expect("namespace");
    }

    /// A namespace with the credentials and the ProviderConfig `huawei`.
    pub async fn namespace(&self, name: &str) {
        self.bare_namespace(name).await;
        let config = self.emu.config().clone();
        let secret: Secret = manifest(json!({
            "metadata": {"name": "huawei", "labels": {"coffer.dev/credentials": "true"}},
            "stringData": {"accessKey": config.access_key, "secretKey": config.secret_key}
        }));
        Api::<Secret>::namespaced(self.client.clone(), name)
            .create(&PostParams::default(), &secret)
            .await
            .expect("secret");
        let pc: ProviderConfig = manifest(json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "huawei"},
            "spec": {"huaweiCloud": {
                "region": config.region, "projectId": config.project_id, "domainId": config.domain_id,
                "endpoints": {"iam": self.emu.base_url(), "cbr": self.emu.base_url()},
                "credentials": {"type": "AccessKey", "secretRef": {"name": "huawei"}}
            }}
        }));
        Api::<ProviderConfig>::namespaced(self.client.clone(), name)
            .create(&PostParams::default(), &pc)
            .await
            .expect("ProviderConfig");
    }

    /// Creates objects `0..n` in `namespace`; how long the API server took.
    pub async fn create(&self, namespace: &str, n: usize) -> Duration {
        let vaults: Api<BackupVault> = Api::namespaced(self.client.clone(), namespace);
        let agencies: Api<Agency> = Api::namespaced(self.client.clone(), namespace);
        let region = self.emu.config().region.clone();
        let started = Instant::now();
        futures::stream::iter(0..n)
            .map(|i| {
                let (vaults, agencies, region) = (vaults.clone(), agencies.clone(), region.clone());
                async move {
                    let params = PostParams::default();
                    match i % AGENCY_EVERY == AGENCY_EVERY - 1 {
                        true => agencies
                            .create(&params, &agency(namespace, i, &region))
                            .await
                            .map(|_| ()),
                        false => vaults.create(&params, &vault(i)).await.map(|_| ()),
                    }
                }
            })
            .buffer_unordered(PARALLEL_CREATES)
            .try_collect::<Vec<_>>()
            .await
            .expect("creating objects");
        started.elapsed()
    }

    /// Deletes every object in `namespace` (none holds a finalizer yet).
    pub async fn clear(&self, namespace: &str) {
        clear(Api::<BackupVault>::namespaced(
            self.client.clone(),
            namespace,
        ))
        .await;
        clear(Api::<Agency>::namespaced(self.client.clone(), namespace)).await;
    }
}

/// Deletes every object `api` lists. One call cannot delete 90,000
/// objects within the API server's one-minute request timeout: it is cut
/// off having deleted part, and the next call goes on from there.
async fn clear<K>(api: Api<K>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    for _ in 0..30 {
        let _ = api
            .delete_collection(&DeleteParams::default(), &ListParams::default())
            .await;
        let left = api
            .list_metadata(&ListParams::default().limit(1))
            .await
            .expect("listing what is left");
        if left.items.is_empty() {
            return;
        }
    }
    panic!("objects left after 30 calls of delete_collection");
}

/// The number of agencies among objects `0..n`.
pub fn agencies_in(n: usize) -> usize {
    n / AGENCY_EVERY
}

pub fn vault(i: usize) -> BackupVault {
    manifest(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": format!("vault-{i:05}")},
        "spec": {"providerConfigRef": {"name": "huawei"}, "huaweiCloud": {
            "name": format!("bench-vault-{i:05}"),
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server",
                        "protectType": "backup", "size": 100},
            "threshold": 80, "tags": [{"key": "team", "value": "bench"}]
        }}
    }))
}

/// IAM agency names are unique in an account, which every namespace of
/// the bench shares: the name carries the namespace.
pub fn agency(namespace: &str, i: usize, region: &str) -> Agency {
    manifest(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "Agency",
        "metadata": {"name": format!("agency-{i:05}")},
        "spec": {"providerConfigRef": {"name": "huawei"}, "huaweiCloud": {
            "name": format!("{namespace}-agency-{i:05}"),
            "trustDomain": {"name": "central-ops"},
            "duration": 1,
            "roles": [{"role": "CBR ReadOnlyAccess", "scope": "Project", "project": region}]
        }}
    }))
}
