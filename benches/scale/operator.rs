//! `coffer run` as its own process, as a cluster runs it: started, waited
//! for until `/readyz` answers, measured from `/proc`, and stopped with
//! SIGTERM so that a leader hands its Lease over.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use coffer::controlplane::ControlPlane;
use coffer::controlplane::process::{Supervised, free_port};

use super::machine::field;

/// How one operator process is run.
#[derive(Clone, Debug)]
pub struct Flags {
    pub resync: Duration,
    pub concurrency: usize,
    /// Run under leader election with this identity.
    pub leader: Option<&'static str>,
}

pub struct Operator {
    process: Supervised,
    metrics_port: u16,
    spawned: Instant,
    /// When `/readyz` first answered 200, since the spawn: watched from the
    /// start, so it is known however late the bench asks.
    ready_after: Arc<OnceLock<Duration>>,
    pub log: PathBuf,
}

impl Operator {
    pub fn start(cp: &ControlPlane, name: &'static str, flags: &Flags) -> Operator {
        let metrics_port = free_port().expect("a free port");
        let log = cp.dir().join(format!("{name}.log"));
        let mut args = vec![
            "run".to_string(),
            format!("--metrics-addr=127.0.0.1:{metrics_port}"),
            format!("--resync-interval={}s", flags.resync.as_secs()),
            format!("--max-concurrent-reconciles={}", flags.concurrency),
            "--log-format=text".into(),
            // The bench's emulator, on loopback.
            "--allowed-endpoints=http://127.0.0.1".into(),
        ];
        let mut env = vec![("KUBECONFIG", cp.kubeconfig_path().as_os_str().to_owned())];
        match flags.leader {
            Some(identity) => {
                args.push("--leader-election=true".into());
                env.push(("POD_NAME", identity.into()));
            }
            None => args.push("--leader-election=false".into()),
        }
        let env: Vec<(&str, &std::ffi::OsStr)> =
            env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        let spawned = Instant::now();
        let process = Supervised::spawn_with_env(
            name,
            Path::new(env!("CARGO_BIN_EXE_coffer")),
            &args,
            &env,
            &log,
        )
        .expect("starting the operator");
        let ready_after = Arc::new(OnceLock::new());
        let seen = ready_after.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let url = format!("http://127.0.0.1:{metrics_port}/readyz");
            while spawned.elapsed() < Duration::from_secs(120) {
                if http
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    let _ = seen.set(spawned.elapsed());
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Operator {
            process,
            metrics_port,
            spawned,
            ready_after,
            log,
        }
    }

    /// Waits until `/readyz` has answered 200; the time from the spawn to then.
    pub async fn ready(&self, within: Duration) -> Duration {
        loop {
            if let Some(after) = self.ready_after.get() {
                return *after;
            }
            assert!(
                self.spawned.elapsed() < within,
                "the operator never became ready; log: {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// From now, how long until this operator leads with its controllers
    /// running: `coffer_leader 1` and `/readyz` answering 200 (a new leader
    /// answers 503 until its caches are filled). Set once seen, within 120 s.
    pub fn acting_after_now(&self) -> Arc<OnceLock<Duration>> {
        let acting = Arc::new(OnceLock::new());
        let seen = acting.clone();
        let (metrics, ready) = (
            self.metrics_url(),
            format!("http://127.0.0.1:{}/readyz", self.metrics_port),
        );
        let from = Instant::now();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            while from.elapsed() < Duration::from_secs(120) {
                let leads = match http.get(&metrics).send().await {
                    Ok(r) => r
                        .text()
                        .await
                        .is_ok_and(|body| body.lines().any(|l| l == "coffer_leader 1")),
                    Err(_) => false,
                };
                let ready = leads
                    && http
                        .get(&ready)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                if ready {
                    let _ = seen.set(from.elapsed());
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        acting
    }

    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port)
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Resident and peak resident memory now, in KiB.
    pub fn memory(&self) -> Memory {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        Memory {
            rss_kib: field(&status, "VmRSS:").unwrap_or(0),
            peak_kib: field(&status, "VmHWM:").unwrap_or(0),
        }
    }

    /// CPU time used so far (user and system), in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid())
    }

    /// SIGTERM, then what the operator's own shutdown grace allows.
    pub fn stop(mut self) {
        self.process.stop(Duration::from_secs(25));
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// utime + stime of a process from `/proc/<pid>/stat`, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name is in parentheses and may hold spaces: count from after it.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 of stat; 11 and 12 after the name and state.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) as f64 / per_second
}
