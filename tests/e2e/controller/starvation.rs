//! One tenant cannot stall the others: `coffer run`, watching two
//! namespaces, with namespace A's ProviderConfig pointing at an endpoint
//! that accepts connections and never answers and 200 BackupVaults using
//! it; namespace B's 50 BackupVaults against the emulator are all Ready
//! within 30 s, A never holds more than its share of the reconciles (as the
//! hanging listener counts them), and coffer's memory stays flat.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use coffer::api::{BackupVault, ProviderConfig};
use coffer::controlplane::process::{Supervised, free_port};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams, PostParams};
use serde_json::json;
use tokio::io::AsyncReadExt;

use super::{Running, is_ready};
use crate::support::env;

/// BackupVaults behind the hanging endpoint.
const STUCK: usize = 200;
/// BackupVaults of the other tenant, against the emulator.
const HEALTHY: usize = 50;
/// How long the healthy tenant may wait for all of them.
const HEALTHY_WITHIN: Duration = Duration::from_secs(30);
/// `coffer run`'s defaults: 16 reconciles of a kind at once, half of them
/// for one ProviderConfig.
const SHARE: usize = 8;
/// How much coffer's resident memory may grow while it works.
const RSS_GROWTH: u64 = 24 << 20;

/// A TCP listener on loopback that accepts every connection and never
/// answers; it reads what it is sent (and drops it) only to see when the
/// other side gives up. Counts connections open now and at most.
struct Hanging {
    url: String,
    open: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Hanging {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let open = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (o, m, a) = (open.clone(), most.clone(), accepted.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::SeqCst);
                let now = o.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let o = o.clone();
                tokio::spawn(async move {
                    let mut sink = [0u8; 4096];
                    while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
                    o.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            url,
            open,
            most,
            accepted,
            task,
        }
    }
}

impl Drop for Hanging {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Resident memory of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

async fn create<K>(api: &Api<K>, value: serde_json::Value)
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(value).expect("a valid object");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("creating an object");
}

fn vault(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": name},
        "spec": {"providerConfigRef": {"name": "cloud"}, "huaweiCloud": {
            "name": name,
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server",
                        "protectType": "backup", "size": 100},
        }},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_endpoint_in_one_namespace_does_not_starve_another() {
    // Namespace B: the emulator, its Secret and ProviderConfig; no
    // controllers in this process.
    let b = Running::start_instead("starve-b", |_| {}, |_, _, _| futures::future::pending()).await;
    let hanging = Hanging::start().await;
    let client = b.client.clone();
    let a = env().namespace("starve-a").await;
    let c = b.emulator.config().clone();
    create(
        &Api::<Secret>::namespaced(client.clone(), &a),
        json!({
            "metadata": {"name": "creds", "labels": {"coffer.dev/credentials": "true"}},
            "stringData": {"accessKey": c.access_key, "secretKey": c.secret_key},
        }),
    )
    .await;
    create(
        &Api::<ProviderConfig>::namespaced(client.clone(), &a),
        json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": "cloud"},
            "spec": {"huaweiCloud": {
                "region": c.region, "projectId": c.project_id,
                "endpoints": {"iam": hanging.url, "cbr": hanging.url},
                "credentials": {"type": "AccessKey", "secretRef": {"name": "creds"}},
            }},
        }),
    )
    .await;
    let stuck = Api::<BackupVault>::namespaced(client.clone(), &a);
    for i in 0..STUCK {
        create(&stuck, vault(&format!("stuck-{i:03}"))).await;
    }

    let dir = tempfile::tempdir().expect("a log directory");
    let port = free_port().expect("a free port");
    let operator = Supervised::spawn_with_env(
        "coffer run",
        Path::new(env!("CARGO_BIN_EXE_coffer")),
        &[
            "run".into(),
            format!("--metrics-addr=127.0.0.1:{port}"),
            format!("--watch-namespaces={a},{}", b.ns),
            // coffer's own namespace is watched too: make it B.
            format!("--leader-election-namespace={}", b.ns),
            "--log-format=text".into(),
            // The emulator, and the endpoint that never answers.
            format!("{},{}", b.allowed_endpoints_flag(), hanging.url),
        ],
        &[("KUBECONFIG", env().kubeconfig.as_os_str())],
        &dir.path().join("operator.log"),
    )
    .expect("starting coffer run");
    let pid = operator.id();

    // A's reconciles have taken what they can: its share, all hanging.
    let saturated = Instant::now() + Duration::from_secs(60);
    while hanging.open.load(Ordering::SeqCst) < SHARE {
        assert!(
            Instant::now() < saturated,
            "A's reconciles never reached the hanging endpoint ({} connections)",
            hanging.accepted.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_before = rss(pid);

    let started = Instant::now();
    let healthy = b.api::<BackupVault>();
    for i in 0..HEALTHY {
        create(&healthy, vault(&format!("healthy-{i:03}"))).await;
    }
    let mut rss_most = rss_before;
    let took = loop {
        rss_most = rss_most.max(rss(pid));
        let vaults = healthy
            .list(&ListParams::default())
            .await
            .expect("listing B");
        let ready = vaults.items.iter().filter(|v| is_ready(v)).count();
        if ready == HEALTHY {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < HEALTHY_WITHIN,
            "only {ready} of B's {HEALTHY} vaults Ready after {HEALTHY_WITHIN:?}, \
             while A's endpoint hangs ({} connections open)",
            hanging.open.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // A goes on hanging a while longer: the memory must not climb with it.
    let watch_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < watch_until {
        rss_most = rss_most.max(rss(pid));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let rss_after = rss(pid);
    let most = hanging.most.load(Ordering::SeqCst);
    eprintln!(
        "starvation: B's {HEALTHY} vaults Ready in {:.1}s; A's endpoint held at most {most} connections \
         ({} accepted); coffer RSS {:.1} MiB before, {:.1} MiB at most, {:.1} MiB after",
        took.as_secs_f64(),
        hanging.accepted.load(Ordering::SeqCst),
        rss_before as f64 / 1048576.0,
        rss_most as f64 / 1048576.0,
        rss_after as f64 / 1048576.0,
    );
    assert!(rss_before > 0, "no RSS read for coffer run (pid {pid})");
    // Its share of the vault reconciles, and the ProviderConfig's own check.
    assert!(
        most <= SHARE + 1,
        "A held {most} connections to its hanging endpoint at once, more than its share of {SHARE}"
    );
    assert!(
        rss_most <= rss_before + RSS_GROWTH,
        "coffer's RSS grew from {rss_before} to {rss_most} bytes"
    );
    drop(operator);
}
