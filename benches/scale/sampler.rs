//! The time series of a run, one sample a second: objects Ready, provider
//! calls, Kubernetes writes, and the operator's memory and CPU. Ready is
//! counted from a watch (a list of 10,000 objects a second would load the
//! API server the run is measuring); writes come from the API server's own
//! metrics, every few seconds.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coffer::controller::engine::Managed;
use coffer::emulator::RunningEmulator;
use futures::StreamExt;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde::Serialize;

use super::apiserver;
use super::operator::{cpu_seconds, mib};
use super::provider;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Sample {
    /// Seconds since the run started.
    pub t: f64,
    pub ready: usize,
    /// Cumulative provider calls and Kubernetes writes (coffer's kinds and Events).
    pub provider_calls: u64,
    pub kube_writes: u64,
    pub rss_mib: f64,
    /// Percent of one core over the last sample.
    pub cpu_percent: f64,
}

/// How many watched objects are Ready now.
#[derive(Clone, Default)]
pub struct ReadyCount {
    ready: Arc<Mutex<HashMap<String, bool>>>,
    count: Arc<AtomicUsize>,
}

impl ReadyCount {
    pub fn get(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// Follows kind `K` in `namespace` until the process ends.
    pub fn follow<K: Managed>(&self, api: Api<K>) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut objects = watcher(api, watcher::Config::default())
                .default_backoff()
                .applied_objects()
                .boxed();
            while let Some(Ok(obj)) = objects.next().await {
                let ready = obj.managed_status().is_some_and(|s| {
                    s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.status == "True")
                });
                let key = format!(
                    "{}/{}/{}",
                    K::KIND,
                    obj.meta().namespace.as_deref().unwrap_or(""),
                    obj.meta().name.as_deref().unwrap_or("")
                );
                let mut all = this.ready.lock().unwrap();
                let was = all.insert(key, ready).unwrap_or(false);
                match (was, ready) {
                    (false, true) => this.count.fetch_add(1, Ordering::Relaxed),
                    (true, false) => this.count.fetch_sub(1, Ordering::Relaxed),
                    _ => 0,
                };
            }
        });
    }
}

/// Samples once a second until stopped; samples are kept for the record.
pub struct Sampler {
    pub samples: Arc<Mutex<Vec<Sample>>>,
    /// The operator being measured (it changes on failover and restart).
    pub pid: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
}

impl Sampler {
    pub fn start(
        client: kube::Client,
        emu: Arc<RunningEmulator>,
        ready: ReadyCount,
        pid: u32,
        origin: Instant,
    ) -> Sampler {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let pid = Arc::new(AtomicU32::new(pid));
        let stop = Arc::new(AtomicBool::new(false));
        let (out, current, stopping) = (samples.clone(), pid.clone(), stop.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut last_cpu = (Instant::now(), 0.0, 0);
            let mut writes = 0;
            let mut n = 0u64;
            while !stopping.load(Ordering::Relaxed) {
                tick.tick().await;
                let pid = current.load(Ordering::Relaxed);
                if n.is_multiple_of(3) {
                    match apiserver::try_writes(&client).await {
                        Ok(now) => writes = apiserver::coffer_writes(&now),
                        Err(_) => return,
                    }
                }
                n += 1;
                let cpu = cpu_seconds(pid);
                let now = Instant::now();
                let cpu_percent = match last_cpu.2 == pid {
                    true => {
                        100.0 * (cpu - last_cpu.1) / now.duration_since(last_cpu.0).as_secs_f64()
                    }
                    false => 0.0,
                };
                last_cpu = (now, cpu, pid);
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let sample = Sample {
                    t: origin.elapsed().as_secs_f64(),
                    ready: ready.get(),
                    provider_calls: provider::total(&emu.counters()),
                    kube_writes: writes,
                    rss_mib: mib(super::machine::field(&status, "VmRSS:").unwrap_or(0)),
                    cpu_percent: cpu_percent.max(0.0),
                };
                out.lock().unwrap().push(sample);
            }
        });
        Sampler { samples, pid, stop }
    }

    pub fn follow(&self, pid: u32) {
        self.pid.store(pid, Ordering::Relaxed);
    }

    pub fn finish(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.samples.lock().unwrap().clone()
    }
}
