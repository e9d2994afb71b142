//! How coffer holds up at scale: N BackupVaults (default 10 000, set
//! `COFFER_BENCH_OBJECTS`) on a real kube-apiserver, reconciled by
//! `coffer run` as its own process against the emulator. Reports what it
//! measured: time to converge, the operator's resident memory (now and
//! peak), provider calls per object, and the calls a no-op resync makes.
//!
//! `COFFER_BENCH_FAULTS=0.3` makes the emulator fail that share of calls
//! (half 500, half 429 with Retry-After) until every vault is Ready, and the
//! API server's own `apiserver_request_total` says what converging cost
//! the cluster in writes.
//!
//! Run with `make bench`. It takes minutes, so it is not part of `make test`.

#[path = "scale/apiserver.rs"]
mod apiserver;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use coffer::api::{BackupVault, ProviderConfig};
use coffer::controlplane::{ControlPlane, crds};
use coffer::emulator::{self, EmulatorConfig, FaultConfig, Operation};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ListParams, PostParams};

const NAMESPACE: &str = "bench";

/// The share of provider calls that fail while converging.
fn fault_rate() -> f64 {
    std::env::var("COFFER_BENCH_FAULTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn objects() -> usize {
    std::env::var("COFFER_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// VmRSS and VmHWM of a process, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn writes(counters: &BTreeMap<Operation, coffer::emulator::OperationCounter>) -> u64 {
    counters
        .iter()
        .filter(|(op, _)| {
            !matches!(
                op,
                Operation::ShowVault | Operation::ListVaults | Operation::ShowVaultTags
            )
        })
        .filter(|(op, _)| !matches!(op, Operation::CreateToken))
        .map(|(_, c)| c.total)
        .sum()
}

fn reads(counters: &BTreeMap<Operation, coffer::emulator::OperationCounter>) -> u64 {
    counters.values().map(|c| c.total).sum::<u64>() - writes(counters)
}

fn is_ready(v: &BackupVault) -> bool {
    v.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    })
}

async fn count_ready(api: &Api<BackupVault>) -> usize {
    let mut ready = 0;
    let mut params = ListParams::default().limit(2000);
    loop {
        let page = api.list(&params).await.expect("listing vaults");
        ready += page.items.iter().filter(|v| is_ready(v)).count();
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return ready,
        }
    }
}

/// How many Events of each reason the namespace holds.
async fn event_reasons(client: &kube::Client) -> BTreeMap<String, usize> {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), NAMESPACE);
    let mut out = BTreeMap::new();
    for event in events
        .list(&ListParams::default())
        .await
        .expect("Events")
        .items
    {
        *out.entry(event.reason.unwrap_or_default()).or_insert(0) += 1;
    }
    out
}

fn manifest<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("a valid manifest")
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs harness-less benches too; this one takes
    // minutes, so it runs only when cargo bench asks for it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: skipped outside `cargo bench` (run `make bench`)");
        return;
    }
    let n = objects();
    let resync = Duration::from_secs(60);
    println!("scale: {n} BackupVaults, resync interval {resync:?}");

    let cp = ControlPlane::start(None).await.expect("control plane");
    let client = cp.client().await.expect("client");
    crds::install(
        &client,
        &crds::read_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds"))
            .expect("crds"),
    )
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

    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &manifest(serde_json::json!({"metadata": {"name": NAMESPACE}})),
        )
        .await
        .expect("namespace");
    let config = emu.config().clone();
    let secret: Secret = manifest(serde_json::json!({
        "metadata": {"name": "huawei", "labels": {"coffer.dev/credentials": "true"}},
        "stringData": {"accessKey": config.access_key, "secretKey": config.secret_key}
    }));
    Api::<Secret>::namespaced(client.clone(), NAMESPACE)
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    let pc: ProviderConfig = manifest(serde_json::json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "huawei"},
        "spec": {"huaweiCloud": {
            "region": config.region, "projectId": config.project_id,
            "endpoints": {"iam": emu.base_url(), "cbr": emu.base_url()},
            "credentials": {"type": "AccessKey", "secretRef": {"name": "huawei"}}
        }}
    }));
    Api::<ProviderConfig>::namespaced(client.clone(), NAMESPACE)
        .create(&PostParams::default(), &pc)
        .await
        .expect("pc");

    let metrics_port = coffer::controlplane::process::free_port().expect("port");
    let log = cp.dir().join("operator.log");
    let operator = coffer::controlplane::process::Supervised::spawn_with_env(
        "coffer run",
        std::path::Path::new(env!("CARGO_BIN_EXE_coffer")),
        &[
            "run".into(),
            format!("--metrics-addr=127.0.0.1:{metrics_port}"),
            format!("--resync-interval={}s", resync.as_secs()),
            "--leader-election=false".into(),
            "--log-format=text".into(),
        ],
        &[("KUBECONFIG", cp.kubeconfig_path().as_os_str())],
        &log,
    )
    .expect("starting the operator");
    // Idle means started, caches filled and ready, with nothing to do yet.
    let http = reqwest::Client::new();
    let ready_url = format!("http://127.0.0.1:{metrics_port}/readyz");
    let ready_by = Instant::now() + Duration::from_secs(60);
    while !http
        .get(&ready_url)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            Instant::now() < ready_by,
            "the operator never became ready; log: {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let idle = memory_kib(operator.id());

    let faults = fault_rate();
    if faults > 0.0 {
        emu.set_faults(FaultConfig {
            error_rates: BTreeMap::from([(500, faults / 2.0), (429, faults / 2.0)]),
            ..FaultConfig::default()
        })
        .expect("faults");
        println!(
            "scale: {:.0} % of provider calls fail until every vault is Ready",
            faults * 100.0
        );
    }
    let writes_before = apiserver::writes(&client).await;
    let vaults: Api<BackupVault> = Api::namespaced(client.clone(), NAMESPACE);
    let started = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let vaults = vaults.clone();
            async move {
                let v: BackupVault = manifest(serde_json::json!({
                    "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
                    "metadata": {"name": format!("vault-{i:05}")},
                    "spec": {"providerConfigRef": {"name": "huawei"}, "huaweiCloud": {
                        "name": format!("bench-vault-{i:05}"),
                        "billing": {"consistentLevel": "crash_consistent", "objectType": "server",
                                    "protectType": "backup", "size": 100},
                        "threshold": 80, "tags": [{"key": "team", "value": "bench"}]
                    }}
                }));
                vaults.create(&PostParams::default(), &v).await.map(|_| ())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .expect("creating vaults");
    let created_in = started.elapsed();

    let deadline = Instant::now() + Duration::from_secs(60 * 30);
    let mut ready = 0;
    while Instant::now() < deadline {
        ready = count_ready(&vaults).await;
        if ready == n {
            break;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let converged_in = started.elapsed();
    let converged = memory_kib(operator.id());
    let after_create = emu.counters();
    emu.set_faults(FaultConfig::default()).expect("faults off");
    // Late writes (an Event after the last status) land within a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kube_writes = apiserver::delta(&writes_before, &apiserver::writes(&client).await);
    let reasons = event_reasons(&client).await;

    // One full resync round with nothing to change: only reads are allowed.
    emu.reset_counters();
    tokio::time::sleep(resync + resync / 5).await;
    let resync_counters = emu.counters();
    let steady = memory_kib(operator.id());

    println!(
        "scale: created {n} objects in {:.1}s; {ready}/{n} Ready after {:.1}s",
        created_in.as_secs_f64(),
        converged_in.as_secs_f64()
    );
    println!(
        "scale: provider calls to converge: {} writes, {} reads ({:.2} calls per object)",
        writes(&after_create),
        reads(&after_create),
        (writes(&after_create) + reads(&after_create)) as f64 / n as f64
    );
    let total: u64 = kube_writes.values().sum();
    println!(
        "scale: Kubernetes writes to converge, the bench's own creates included: {total} \
         ({:.2} per object): {kube_writes:?}",
        total as f64 / n as f64
    );
    println!("scale: Events by reason: {reasons:?}");
    println!(
        "scale: one no-op resync round ({:?}): {} writes, {} reads",
        resync + resync / 5,
        writes(&resync_counters),
        reads(&resync_counters)
    );
    println!(
        "scale: operator RSS idle {:.1} MiB, after converging {:.1} MiB, after a resync {:.1} MiB, peak {:.1} MiB",
        mib(idle.0),
        mib(converged.0),
        mib(steady.0),
        mib(steady.1.max(converged.1))
    );
    if ready != n {
        eprintln!(
            "scale: not every vault became Ready; operator log: {}",
            log.display()
        );
        std::process::exit(1);
    }
}
