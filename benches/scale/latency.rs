//! The latency mode: the emulator answers like a cloud (50 ms ± 25 ms), and
//! the question is whether coffer keeps its concurrency busy. N objects are
//! put in the cluster first, then an operator starts and reconciles them;
//! the floor is `provider calls × mean latency / concurrency`. Done at the
//! default concurrency (16) and at 64, each on its own N objects.

use std::time::{Duration, Instant};

use coffer::api::{Agency, BackupVault};
use coffer::emulator::FaultConfig;
use kube::api::Api;
use serde_json::json;

use super::cluster::Cluster;
use super::operator::{Flags, Operator, mib};
use super::provider;
use super::record::{Run, Target};
use super::sampler::{ReadyCount, Sampler};
use super::{apiserver, converge, machine, refuse};

/// 25 ms plus up to 50 ms, uniformly: a mean of 50 ms.
const LATENCY_BASE_MS: u64 = 25;
const LATENCY_JITTER_MS: u64 = 50;
const MEAN_LATENCY: Duration = Duration::from_millis(50);

pub async fn run(n: usize) -> Run {
    let cluster = Cluster::start(&super::record::dir().join("last-latency")).await;
    let client = cluster.client.clone();
    cluster.namespace("floor").await;
    let floor = cluster.create("floor", n).await;
    cluster.clear("floor").await;
    cluster
        .emu
        .set_faults(FaultConfig {
            latency_ms: LATENCY_BASE_MS,
            jitter_ms: LATENCY_JITTER_MS,
            ..FaultConfig::default()
        })
        .expect("latency");

    let origin = Instant::now();
    let mut phases = Vec::new();
    let mut figures = serde_json::Map::new();
    let mut targets = Vec::new();
    let mut all_samples = Vec::new();
    for concurrency in [16, 64] {
        let namespace = format!("latency-{concurrency}");
        cluster.namespace(&namespace).await;
        cluster.create(&namespace, n).await;
        let ready = ReadyCount::default();
        ready.follow(Api::<BackupVault>::namespaced(client.clone(), &namespace));
        ready.follow(Api::<Agency>::namespaced(client.clone(), &namespace));
        cluster.emu.reset_counters();
        let writes_before = apiserver::writes(&client).await;
        phases.push((
            format!("start, concurrency {concurrency}"),
            origin.elapsed().as_secs_f64(),
        ));
        let flags = Flags {
            resync: Duration::from_secs(600),
            concurrency,
            leader: None,
        };
        let op = Operator::start(&cluster.cp, "operator", &flags);
        let sampler = Sampler::start(
            client.clone(),
            cluster.emu.clone(),
            ready.clone(),
            op.pid(),
            origin,
        );
        let started = Instant::now();
        let Some(ready_in) = converge(&ready, n, Duration::from_secs(1800)).await else {
            refuse(
                &format!("{}/{n} objects Ready after 30 minutes", ready.get()),
                &op.log,
            );
        };
        let counters = cluster.emu.counters();
        let kube_writes = apiserver::delta(&writes_before, &apiserver::writes(&client).await);
        let memory = op.memory();
        op.stop();
        all_samples.extend(sampler.finish());
        let _ = started;
        let calls = provider::total(&counters);
        let latency_floor = calls as f64 * MEAN_LATENCY.as_secs_f64() / concurrency as f64;
        let ratio = ready_in.as_secs_f64() / latency_floor;
        figures.insert(
            format!("concurrency_{concurrency}"),
            json!({
                "ready_seconds": ready_in.as_secs_f64(),
                "provider_calls": provider::by_operation(&counters),
                "provider_calls_total": calls,
                "latency_floor_seconds": latency_floor,
                "ready_over_latency_floor": ratio,
                "kube_writes": kube_writes,
                "rss_mib": {"converged": mib(memory.rss_kib), "peak": mib(memory.peak_kib)},
            }),
        );
        targets.push(Target::at_most(
            &format!("concurrency {concurrency}: Ready / latency floor"),
            ratio,
            1.3,
            "x",
        ));
        // The next operator sees these objects too: settled, they are put off.
    }
    figures.insert(
        "api_server_floor_seconds".into(),
        json!(floor.as_secs_f64()),
    );
    figures.insert("objects".into(), json!(n));
    println!(
        "scale: {}",
        serde_json::to_string_pretty(&figures).unwrap_or_default()
    );
    Run {
        mode: "latency".into(),
        finished_at: jiff::Timestamp::now().to_string(),
        machine: machine::describe(),
        parameters: json!({
            "objects": n, "latency_ms": {"base": LATENCY_BASE_MS, "jitter": LATENCY_JITTER_MS, "mean": 50},
            "concurrency": [16, 64],
            "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
            "controller_manager": super::cluster::controller_manager(),
        }),
        figures: serde_json::Value::Object(figures),
        targets,
        phases,
        samples: all_samples,
    }
}
