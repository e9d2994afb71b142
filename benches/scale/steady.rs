//! The steady mode: objects created while coffer runs, then idle, a leader
//! failover and a restart with everything converged.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use coffer::api::{Agency, BackupVault};
use coffer::emulator::FaultConfig;
use kube::api::{Api, ListParams};
use serde_json::json;

use super::cluster::{Cluster, agencies_in};
use super::operator::{Flags, Operator, mib};
use super::provider::{self, Counters};
use super::record::{Run, Target};
use super::sampler::{ReadyCount, Sample, Sampler};
use super::{apiserver, at_rest, converge, machine, refuse, scrape};

const NAMESPACE: &str = "bench";
/// The leader's resync interval while converging and idle: long enough
/// that no resync falls in the idle minute.
const RESYNC: Duration = Duration::from_secs(300);
/// The standby's and the restarted operator's: a quiet start spreads its
/// first reads over it, and the bench watches one whole interval.
const TAKEOVER_RESYNC: Duration = Duration::from_secs(60);
const IDLE: Duration = Duration::from_secs(60);
/// `coffer run`'s default `--resync-interval`.
const DEFAULT_RESYNC: Duration = Duration::from_secs(600);

pub async fn run(n: usize, faults: f64) -> Run {
    let cluster = Cluster::start(&super::record::dir().join("last-steady")).await;
    let client = cluster.client.clone();

    // The floor: the same creates, with no operator running.
    cluster.namespace("floor").await;
    let floor = cluster.create("floor", n).await;
    cluster.clear("floor").await;
    println!(
        "scale: the API server accepted {n} creates in {:.1}s",
        floor.as_secs_f64()
    );

    cluster.namespace(NAMESPACE).await;
    let origin = Instant::now();
    let mut phases = vec![("start".to_string(), 0.0)];
    let leader = Flags {
        resync: RESYNC,
        concurrency: 16,
        leader: Some("bench-a"),
    };
    let a = Operator::start(&cluster.cp, "operator-a", &leader);
    a.ready(Duration::from_secs(60)).await;
    let idle_memory = a.memory();
    let standby = Flags {
        resync: TAKEOVER_RESYNC,
        leader: Some("bench-b"),
        ..leader.clone()
    };
    let b = Operator::start(&cluster.cp, "operator-b", &standby);

    let ready = ReadyCount::default();
    ready.follow(Api::<BackupVault>::namespaced(client.clone(), NAMESPACE));
    ready.follow(Api::<Agency>::namespaced(client.clone(), NAMESPACE));
    let sampler = Sampler::start(
        client.clone(),
        cluster.emu.clone(),
        ready.clone(),
        a.pid(),
        origin,
    );
    if faults > 0.0 {
        cluster
            .emu
            .set_faults(FaultConfig {
                error_rates: BTreeMap::from([(500, faults / 2.0), (429, faults / 2.0)]),
                ..FaultConfig::default()
            })
            .expect("faults");
        println!(
            "scale: {:.0} % of provider calls fail until everything is Ready",
            faults * 100.0
        );
    }
    cluster.emu.reset_counters();
    let writes_before = apiserver::writes(&client).await;
    phases.push(("create".into(), origin.elapsed().as_secs_f64()));
    let created_in = cluster.create(NAMESPACE, n).await;
    let Some(ready_in) = converge(&ready, n, Duration::from_secs(1800) - created_in).await else {
        refuse(
            &format!("{}/{n} objects Ready after 30 minutes", ready.get()),
            &a.log,
        );
    };
    let ready_in = created_in + ready_in;
    phases.push(("Ready".into(), origin.elapsed().as_secs_f64()));
    let converge_calls = cluster.emu.counters();
    cluster
        .emu
        .set_faults(FaultConfig::default())
        .expect("faults off");
    // Late writes (an Event after the last status) land within a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kube_writes = apiserver::delta(&writes_before, &apiserver::writes(&client).await);
    let converged_memory = a.memory();
    let converged_heap = scrape::heap_mib(&a).await;
    let reasons = event_reasons(&client).await;
    let census = json!([
        super::census::of(Api::<BackupVault>::namespaced(client.clone(), NAMESPACE)).await,
        super::census::of(Api::<Agency>::namespaced(client.clone(), NAMESPACE)).await,
    ]);

    // Idle: between resyncs, nothing to do.
    tokio::time::sleep(Duration::from_secs(5)).await;
    phases.push(("idle".into(), origin.elapsed().as_secs_f64()));
    cluster.emu.reset_counters();
    let cpu_before = a.cpu_seconds();
    let reconciles_before = scrape::reconciles(&a).await;
    tokio::time::sleep(IDLE).await;
    let idle_cpu = 100.0 * (a.cpu_seconds() - cpu_before) / IDLE.as_secs_f64();
    let idle_minute = at_rest::Minute {
        cpu_percent: idle_cpu,
        reconciles: scrape::reconciles(&a).await - reconciles_before,
    };
    let idle_memory_after = a.memory();
    let idle = IdleReads::of(&cluster.emu.counters(), n);

    // A leader failover: the standby takes over.
    phases.push(("failover".into(), origin.elapsed().as_secs_f64()));
    let acting = b.acting_after_now();
    let failover = quiet_takeover(&cluster, &sampler, origin, n, || {
        a.stop();
        b.pid()
    })
    .await;
    // From the old leader's SIGTERM to the standby leading with its
    // controllers running; the quiet minute above outlasts the 120 s the
    // wait gives it only if it never happened.
    let failover_seconds = acting.get().map_or(f64::INFINITY, Duration::as_secs_f64);

    // The new leader's second minute: every object's check fell due in the
    // first (its interval is a minute) and falls due once more in this one,
    // with no takeover's work left in it. Drift checks at ten times the
    // default rate, measured alone.
    phases.push(("checks".into(), origin.elapsed().as_secs_f64()));
    let before_checks = b.cpu_seconds();
    let reconciles_before = scrape::reconciles(&b).await;
    tokio::time::sleep(TAKEOVER_RESYNC).await;
    let checks_minute_cpu =
        100.0 * (b.cpu_seconds() - before_checks) / TAKEOVER_RESYNC.as_secs_f64();
    let checks_minute = at_rest::Minute {
        cpu_percent: checks_minute_cpu,
        reconciles: scrape::reconciles(&b).await - reconciles_before,
    };

    // A restart: the new leader stops, a new process starts and leads.
    let plain_list = super::apiserver::plain_list(&client, NAMESPACE).await;
    phases.push(("restart".into(), origin.elapsed().as_secs_f64()));
    let mut restart_acting = None;
    let mut c = None;
    let restart = {
        let cp = &cluster.cp;
        let flags = Flags {
            leader: Some("bench-c"),
            ..standby.clone()
        };
        quiet_takeover(&cluster, &sampler, origin, n, || {
            b.stop();
            let op = Operator::start(cp, "operator-c", &flags);
            restart_acting = Some(op.acting_after_now());
            let pid = op.pid();
            c = Some(op);
            pid
        })
        .await
    };
    // From the spawn to leading with its caches filled and controllers
    // running (a standby's /readyz answers at once, so it says nothing).
    let restart_ready = restart_acting
        .and_then(|acting| acting.get().copied())
        .map_or(f64::INFINITY, |d| d.as_secs_f64());
    let samples = sampler.finish();

    // The write floor: coffer's own writes per object, made by a plain
    // client with every operator stopped, against the same API server.
    if let Some(c) = c {
        c.stop();
    }
    let templates = super::floor::Templates::of(&client, NAMESPACE).await;
    cluster.bare_namespace("write-floor").await;
    let write_floor = super::floor::writes(&cluster, "write-floor", n, &templates).await;
    println!(
        "scale: the API server took the {} writes coffer makes for {n} objects in {:.1}s",
        4 * n,
        write_floor.as_secs_f64()
    );

    // The new objects' own writes (finalizer, status) and their Events; the
    // ProviderConfigs' few writes (their user counts as objects arrive) are
    // the run's, not any object's, and are reported beside them.
    let config_writes: u64 = kube_writes
        .iter()
        .filter(|(resource, _)| resource.starts_with("providerconfigs"))
        .map(|(_, n)| n)
        .sum();
    let coffer_writes: u64 = kube_writes.values().sum::<u64>() - n as u64 - config_writes;
    let per_object = |x: u64| x as f64 / n as f64;
    // The new leader's second minute checks every object once; the idle
    // minute holds few checks or, once converging outlasts the leader's
    // interval, many. Their reconciles split the CPU into a cost at rest
    // and a cost per check: coffer at rest as it runs by default is the
    // first plus every object checked once per default interval.
    let at_rest = at_rest::AtRest::of(idle_minute, checks_minute);
    let quiet_cpu = at_rest.map_or(idle_cpu, |r| r.quiet_percent);
    let idle_with_checks = at_rest.map_or(f64::INFINITY, |r| {
        r.with_checks(n, DEFAULT_RESYNC.as_secs_f64())
    });
    let vault_calls = calls_matching(&converge_calls, &["Vault"]);
    let agency_calls = calls_matching(&converge_calls, AGENCY_CALLS);
    let vaults = n - agencies_in(n);
    let figures = json!({
        "objects": n, "vaults": vaults, "agencies": agencies_in(n),
        "floor_seconds": floor.as_secs_f64(),
        "write_floor_seconds": write_floor.as_secs_f64(),
        "ready_over_write_floor": ready_in.as_secs_f64() / write_floor.as_secs_f64(),
        "created_seconds": created_in.as_secs_f64(),
        "ready_seconds": ready_in.as_secs_f64(),
        "ready_over_floor": ready_in.as_secs_f64() / floor.as_secs_f64(),
        "kube_writes_by_resource_including_the_bench_creates": kube_writes,
        "kube_writes_per_object": per_object(coffer_writes),
        "provider_config_writes": config_writes,
        "events_by_reason": reasons,
        "provider_calls": provider::by_operation(&converge_calls),
        "provider_calls_per_object": per_object(provider::total(&converge_calls)),
        "provider_calls_per_vault": vault_calls as f64 / vaults as f64,
        "provider_calls_per_agency": agency_calls as f64 / agencies_in(n).max(1) as f64,
        "rss_mib": {"idle": mib(idle_memory.rss_kib), "converged": mib(converged_memory.rss_kib),
                     "after_idle": mib(idle_memory_after.rss_kib), "peak": mib(idle_memory_after.peak_kib)},
        "operator_heap_mib_after_converging": converged_heap,
        "census": census,
        "idle_cpu_percent": idle_cpu,
        "idle_minute_reconciles": idle_minute.reconciles,
        "checks_minute_reconciles": checks_minute.reconciles,
        "quiet_cpu_percent": quiet_cpu,
        "cpu_ms_per_check": at_rest.map(|r| r.ms_per_check),
        "idle_cpu_percent_with_checks_at_the_default_interval": idle_with_checks,
        "cpu_percent_checking_every_object_each_minute": checks_minute_cpu,
        "failover_seconds": failover_seconds,
        "idle_reads": idle.json(),
        "failover": failover.json(),
        "restart": restart.json(),
        "restart_ready_seconds": restart_ready,
        "plain_list_seconds": plain_list.as_secs_f64(),
    });
    println!(
        "scale: {}",
        serde_json::to_string_pretty(&figures).unwrap_or_default()
    );
    let mut targets = vec![
        Target::at_most(
            "RSS after converging",
            mib(converged_memory.rss_kib),
            40.0,
            "MiB",
        ),
        Target::at_most("RSS peak", mib(idle_memory_after.peak_kib), 45.0, "MiB"),
        Target::at_most(
            "time to Ready / write floor",
            ready_in.as_secs_f64() / write_floor.as_secs_f64(),
            1.2,
            "x",
        ),
        Target::at_most(
            "Kubernetes writes per new object",
            per_object(coffer_writes),
            3.0,
            "writes",
        ),
        Target::at_most("idle CPU, no check due", quiet_cpu, 1.0, "% of a core"),
        Target::at_most(
            "idle CPU with drift checks every 10 min",
            idle_with_checks,
            1.0,
            "% of a core",
        ),
        Target::at_most(
            "restart: start to leading and ready / a plain list",
            restart_ready / plain_list.as_secs_f64().max(1e-3),
            2.0,
            "x",
        ),
        Target::at_most(
            "failover: SIGTERM to the standby leading and ready",
            failover_seconds,
            15.0,
            "s",
        ),
    ];
    // The takeover's window is one whole resync interval of the new
    // leader, with every object checked once in it: the idle minute, just
    // after converging, skips the objects reconciled in the last half
    // interval, so only the takeover shows what an interval of checks costs.
    targets.push(Target::at_most(
        "failover: vault reads per vault per resync interval",
        failover.per_vault,
        0.05,
        "reads",
    ));
    if faults == 0.0 {
        targets.push(Target::at_most(
            "provider calls per new vault",
            vault_calls as f64 / vaults as f64,
            1.1,
            "calls",
        ));
    }
    for (name, quiet) in [("failover", &failover), ("restart", &restart)] {
        targets.push(Target::at_most(
            &format!("{name}: provider writes"),
            quiet.provider_writes as f64,
            0.0,
            "calls",
        ));
        targets.push(Target::at_most(
            &format!("{name}: Kubernetes writes"),
            quiet.kube_writes as f64,
            0.0,
            "writes",
        ));
        targets.push(Target::at_most(
            &format!("{name}: busiest 5 s of calls / even share"),
            quiet.burst_ratio,
            1.2,
            "x",
        ));
    }
    Run {
        mode: if faults > 0.0 {
            "steady-faults".into()
        } else {
            "steady".into()
        },
        finished_at: jiff::Timestamp::now().to_string(),
        machine: machine::describe(),
        parameters: json!({
            "objects": n, "faults": faults, "leader_resync_seconds": RESYNC.as_secs(),
            "takeover_resync_seconds": TAKEOVER_RESYNC.as_secs(), "concurrency": 16,
            "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
            "controller_manager": super::cluster::controller_manager(),
        }),
        figures,
        targets,
        phases,
        samples,
    }
}

/// What a takeover cost over one resync interval of the new leader.
struct Quiet {
    provider_calls: BTreeMap<String, u64>,
    kube_writes_by_resource: BTreeMap<String, u64>,
    provider_writes: u64,
    provider_reads: u64,
    kube_writes: u64,
    /// The busiest 5 s of provider calls over the share of an even spread
    /// of one read per object.
    burst_ratio: f64,
    /// The busiest 5 s of provider calls over the share of an even spread
    /// of the calls the window made: a burst however few the reads.
    spread_ratio: f64,
    /// The new leader's CPU over the window, in % of a core: a warm
    /// process checking every object once.
    cpu_percent: f64,
    /// Vault and agency reads over the window: one resync interval.
    per_vault: f64,
    per_agency: f64,
}

impl Quiet {
    fn json(&self) -> serde_json::Value {
        json!({"provider_writes": self.provider_writes, "provider_reads": self.provider_reads,
               "kube_writes": self.kube_writes, "busiest_5s_over_even_share": self.burst_ratio,
               "busiest_5s_over_even_spread_of_its_calls": self.spread_ratio,
               "reads_per_vault_per_resync_interval": self.per_vault,
               "cpu_percent": self.cpu_percent,
               "reads_per_agency_per_resync_interval": self.per_agency,
               "provider_calls": self.provider_calls,
               "kube_writes_by_resource": self.kube_writes_by_resource})
    }
}

/// Hands over to a new leader (`switch` stops the old one and answers the
/// new one's pid) and watches one resync interval.
async fn quiet_takeover(
    cluster: &Cluster,
    sampler: &Sampler,
    origin: Instant,
    n: usize,
    switch: impl FnOnce() -> u32,
) -> Quiet {
    cluster.emu.reset_counters();
    let before = apiserver::writes(&cluster.client).await;
    let from = origin.elapsed().as_secs_f64();
    sampler.follow(switch());
    tokio::time::sleep(TAKEOVER_RESYNC).await;
    let counters = cluster.emu.counters();
    let after = apiserver::writes(&cluster.client).await;
    let samples: Vec<Sample> = sampler.samples.lock().unwrap().clone();
    let window: Vec<&Sample> = samples.iter().filter(|s| s.t >= from).collect();
    let busiest = window
        .windows(6)
        .map(|w| w[5].provider_calls.saturating_sub(w[0].provider_calls))
        .max()
        .unwrap_or(0);
    let even = n as f64 * 5.0 / TAKEOVER_RESYNC.as_secs_f64();
    let made = match (window.first(), window.last()) {
        (Some(first), Some(last)) => last.provider_calls.saturating_sub(first.provider_calls),
        _ => 0,
    };
    let even_of_made = (made as f64 * 5.0 / TAKEOVER_RESYNC.as_secs_f64()).max(1.0);
    let kube_writes = apiserver::delta(&before, &after);
    let cpu_percent =
        window.iter().map(|s| s.cpu_percent).sum::<f64>() / window.len().max(1) as f64;
    Quiet {
        cpu_percent,
        provider_calls: provider::by_operation(&counters),
        provider_writes: provider::writes(&counters),
        provider_reads: provider::reads(&counters),
        kube_writes: kube_writes.values().sum(),
        kube_writes_by_resource: kube_writes,
        burst_ratio: busiest as f64 / even,
        spread_ratio: busiest as f64 / even_of_made,
        per_vault: calls_matching(&counters, &["Vault"]) as f64
            / (n - agencies_in(n)).max(1) as f64,
        per_agency: calls_matching(&counters, AGENCY_CALLS) as f64 / agencies_in(n).max(1) as f64,
    }
}

/// The provider reads of the idle minute, scaled to one resync interval of
/// the leader: what drift checks cost when nothing changes.
struct IdleReads {
    by_operation: BTreeMap<String, u64>,
    per_object_per_interval: f64,
    per_vault_per_interval: f64,
    per_agency_per_interval: f64,
    /// The busiest operation's calls a second, on average over the minute.
    busiest_api_per_second: f64,
}

impl IdleReads {
    fn of(counters: &provider::Counters, n: usize) -> Self {
        let scale = RESYNC.as_secs_f64() / IDLE.as_secs_f64();
        let agencies = agencies_in(n).max(1) as f64;
        let vaults = (n - agencies_in(n)).max(1) as f64;
        let by_operation = provider::by_operation(counters);
        let busiest = by_operation.values().copied().max().unwrap_or(0);
        Self {
            per_object_per_interval: provider::reads(counters) as f64 * scale / n as f64,
            per_vault_per_interval: calls_matching(counters, &["Vault"]) as f64 * scale / vaults,
            per_agency_per_interval: calls_matching(counters, AGENCY_CALLS) as f64 * scale
                / agencies,
            busiest_api_per_second: busiest as f64 / IDLE.as_secs_f64(),
            by_operation,
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({"provider_calls": self.by_operation,
               "reads_per_object_per_resync_interval": self.per_object_per_interval,
               "reads_per_vault_per_resync_interval": self.per_vault_per_interval,
               "reads_per_agency_per_resync_interval": self.per_agency_per_interval,
               "busiest_api_calls_per_second": self.busiest_api_per_second})
    }
}

/// The emulator operations an Agency costs: the agency itself, its grants
/// read per scope (`...PermissionsForAgency`), and the account's grants
/// listed at once (`ShowDomainRoleAssignments`), which drift checks read.
const AGENCY_CALLS: &[&str] = &["Agenc", "Permission", "RoleAssignments"];

fn calls_matching(counters: &Counters, names: &[&str]) -> u64 {
    provider::by_operation(counters)
        .iter()
        .filter(|(op, _)| names.iter().any(|n| op.contains(n)))
        .map(|(_, c)| c)
        .sum()
}

/// How many Events of each reason the namespace holds.
async fn event_reasons(client: &kube::Client) -> BTreeMap<String, usize> {
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(client.clone(), NAMESPACE);
    let mut out = BTreeMap::new();
    let mut params = ListParams::default().limit(2000);
    loop {
        let page = events.list(&params).await.expect("Events");
        for event in page.items {
            *out.entry(event.reason.unwrap_or_default()).or_insert(0) += 1;
        }
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => return out,
        }
    }
}
