//! A leader cut off from the API server stops acting before anyone else can
//! take over: two `coffer run` processes, the leader paused (SIGSTOP) for
//! longer than its Lease while the standby takes over and converges; once
//! woken (SIGCONT) the old leader makes no provider call and no Kubernetes
//! write, and exits. Once with the old leader's connections to the API
//! server intact, so that it can see at once that it lost the Lease, and
//! once with them cut from the pause until it has exited (a half-open
//! connection), so that it cannot; whatever it wrote meanwhile is delivered
//! when the cut heals.
//!
//! Whose call is whose: the standby runs with a resync of a day, so once
//! converged it is idle (each object's drift check falls at its own moment
//! of the interval: with ten minutes, one fell in the test's few seconds
//! about once in twenty runs), and anything the emulator or the API server
//! sees after the old leader wakes is the old leader's. The old leader runs
//! with a resync of a second, so on waking every one of its objects is due
//! at once, racing its renewal task.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use coffer::api::{BackupVault, ProviderConfig};
use coffer::controlplane::process::{Supervised, free_port};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::ListParams;
use serde_json::json;

use super::{Running, eventually, is_ready};
use crate::support::cut::Cuttable;
use crate::support::env;

/// The Lease of both replicas: renewed every second, given up after two.
const LEASE: Duration = Duration::from_secs(3);
/// How long the emulator and the API server must see nothing before the
/// standby counts as idle: longer than the 5 s a new leader's first
/// ProviderConfig reconcile may wait for its caches (`users_ready`)
/// before it checks the credentials a second time.
const IDLE: Duration = Duration::from_secs(7);
/// How long the old leader is watched after it exits (or fails to).
const AFTER_WAKE: Duration = Duration::from_secs(3);

/// A `coffer run` replica named `identity` with leader election on,
/// reaching the API server as `kubeconfig` says.
pub(super) fn replica(
    run: &Running,
    identity: &str,
    resync: &str,
    kubeconfig: &Path,
    log: &Path,
) -> Supervised {
    let port = free_port().expect("a free port");
    replica_on(port, run, identity, resync, kubeconfig, log)
}

/// [`replica`], serving its metrics on `port`.
pub(super) fn replica_on(
    port: u16,
    run: &Running,
    identity: &str,
    resync: &str,
    kubeconfig: &Path,
    log: &Path,
) -> Supervised {
    Supervised::spawn_with_env(
        "coffer run",
        Path::new(env!("CARGO_BIN_EXE_coffer")),
        &[
            "run".into(),
            format!("--metrics-addr=127.0.0.1:{port}"),
            format!("--watch-namespace={}", run.ns),
            run.allowed_endpoints_flag(),
            format!("--resync-interval={resync}"),
            "--leader-election".into(),
            format!("--leader-election-namespace={}", run.ns),
            format!("--leader-election-lease-duration={}s", LEASE.as_secs()),
            "--log-format=text".into(),
        ],
        &[
            ("KUBECONFIG", kubeconfig.as_os_str()),
            ("POD_NAME", identity.as_ref()),
            ("RUST_LOG", "coffer=debug,info".as_ref()),
        ],
        log,
    )
    .expect("starting coffer run")
}

pub(super) fn signal(process: &Supervised, signal: libc::c_int) {
    // SAFETY: a signal to our own child.
    let sent = unsafe { libc::kill(process.id() as libc::pid_t, signal) };
    assert_eq!(sent, 0, "kill({}, {signal})", process.id());
}

pub(super) async fn holder(run: &Running) -> Option<String> {
    run.api::<Lease>()
        .get_opt("coffer-leader")
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

/// The resourceVersion of every object coffer writes in the namespace.
async fn versions(run: &Running) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    let lp = ListParams::default();
    let mut add = |kind: &str, name: String, version: Option<String>| {
        versions.insert(format!("{kind}/{name}"), version.unwrap_or_default());
    };
    for o in run
        .api::<BackupVault>()
        .list(&lp)
        .await
        .expect("list")
        .items
    {
        add("BackupVault", o.name_any(), o.resource_version());
    }
    for o in run
        .api::<ProviderConfig>()
        .list(&lp)
        .await
        .expect("list")
        .items
    {
        add("ProviderConfig", o.name_any(), o.resource_version());
    }
    for o in run.api::<Secret>().list(&lp).await.expect("list").items {
        add("Secret", o.name_any(), o.resource_version());
    }
    for o in run.api::<Event>().list(&lp).await.expect("list").items {
        add("Event", o.name_any(), o.resource_version());
    }
    versions
}

/// Waits until neither the emulator nor coffer's objects change for [`IDLE`].
async fn idle(run: &Running) -> (u64, BTreeMap<String, String>) {
    let deadline = Instant::now() + super::PATIENCE;
    let mut seen = (run.last_seq(), versions(run).await);
    let mut since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = (run.last_seq(), versions(run).await);
        if now != seen {
            (seen, since) = (now, Instant::now());
        } else if since.elapsed() >= IDLE {
            return seen;
        }
        assert!(Instant::now() < deadline, "the standby never went idle");
    }
}

/// A proxy to the test API server, and a kubeconfig in `dir` through it.
pub(super) async fn proxied(dir: &Path) -> (Cuttable, std::path::PathBuf) {
    let upstream = env()
        .url
        .trim_start_matches("https://")
        .parse()
        .expect("host:port");
    let proxy = Cuttable::to(upstream).await;
    let kubeconfig = kubeconfig_through(&proxy, dir);
    (proxy, kubeconfig)
}

/// A kubeconfig in `dir` that reaches the test API server through `proxy`.
fn kubeconfig_through(proxy: &Cuttable, dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&env().kubeconfig).expect("the kubeconfig");
    let proxied = text.replace(&env().url, &format!("https://{}", proxy.addr));
    assert_ne!(text, proxied, "the kubeconfig does not name {}", env().url);
    let path = dir.join("kubeconfig-through-proxy");
    std::fs::write(&path, proxied).expect("writing the kubeconfig");
    path
}

#[tokio::test]
async fn a_leader_woken_after_its_lease_passed_makes_no_call_and_exits() {
    woken_leader_stays_fenced(Cut::No).await;
}

#[tokio::test]
async fn a_leader_woken_cut_off_from_the_api_server_makes_no_call_and_exits() {
    woken_leader_stays_fenced(Cut::FromPauseUntilExit).await;
}

/// Whether the old leader's connections to the API server are cut.
#[derive(Clone, Copy, PartialEq)]
enum Cut {
    No,
    FromPauseUntilExit,
}

async fn woken_leader_stays_fenced(cut: Cut) {
    // The cloud and the namespace, but no controllers in this process.
    let run = Running::start_instead("fence", |_| {}, |_, _, _| futures::future::pending()).await;
    let mut dir = tempfile::tempdir().expect("a log directory");
    // The logs a failure names outlive it.
    dir.disable_cleanup(true);
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let (proxy, through_proxy) = proxied(dir.path()).await;
    let mut a = replica(&run, "replica-a", "1s", &through_proxy, &log_a);
    eventually("replica-a holds the lease", || async {
        (holder(&run).await.as_deref() == Some("replica-a")).then_some(())
    })
    .await;
    let names = ["fence-0", "fence-1", "fence-2"];
    for name in names {
        run.create_vault(name, json!({})).await;
    }
    for name in names {
        run.vault_when(name, "Ready under replica-a", is_ready)
            .await;
    }
    let b = replica(&run, "replica-b", "24h", &env().kubeconfig, &log_b);

    signal(&a, libc::SIGSTOP);
    let stopped_at = jiff::Timestamp::now();
    let paused = Instant::now();
    proxy.cut(cut == Cut::FromPauseUntilExit);
    // Work only the standby can do: replica-a is asleep.
    run.create_vault("while-paused", json!({})).await;
    eventually("replica-b takes the lease over", || async {
        (holder(&run).await.as_deref() == Some("replica-b")).then_some(())
    })
    .await;
    for name in names.iter().chain(&["while-paused"]) {
        run.vault_when(name, "Ready under replica-b", is_ready)
            .await;
    }
    let (last_seq, before) = idle(&run).await;
    let lease_before = run
        .api::<Lease>()
        .get("coffer-leader")
        .await
        .expect("lease");
    assert!(paused.elapsed() > LEASE, "paused for less than the lease");

    signal(&a, libc::SIGCONT);
    let woken_at = jiff::Timestamp::now();
    let woken = Instant::now();
    let status = loop {
        if let Some(status) = a.exited() {
            break Some(status);
        }
        if woken.elapsed() > Duration::from_secs(10) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let exited_after = woken.elapsed();
    // What replica-a wrote while cut off reaches the API server now, and
    // anything still on its way from it has arrived after the quiet time.
    proxy.cut(false);
    tokio::time::sleep(AFTER_WAKE).await;

    let calls: Vec<_> = run
        .emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > last_seq)
        .map(|r| {
            format!(
                "{} {} -> {} at SIGCONT{:+}ms",
                r.method,
                r.path,
                r.status,
                (r.received_at - woken_at).get_milliseconds()
            )
        })
        .collect();
    assert_eq!(
        calls,
        Vec::<String>::new(),
        "provider calls after replica-a woke (SIGSTOP at {stopped_at}); log: {}",
        log_a.display()
    );
    assert_eq!(
        versions(&run).await,
        before,
        "Kubernetes writes after replica-a woke; log: {}",
        log_a.display()
    );
    let status = status.unwrap_or_else(|| {
        panic!(
            "replica-a did not exit within 10 s of waking; log: {}",
            log_a.display()
        )
    });
    assert!(
        !status.success(),
        "replica-a exited with {status}, as if nothing went wrong"
    );
    let lease = run
        .api::<Lease>()
        .get("coffer-leader")
        .await
        .expect("lease");
    let holders = |l: &Lease| {
        l.spec
            .as_ref()
            .map(|s| (s.holder_identity.clone(), s.lease_transitions))
    };
    assert_eq!(holders(&lease), holders(&lease_before), "the lease moved");
    assert_eq!(run.vault_count(), 4, "{:#}", run.emulator.vaults());
    eprintln!(
        "replica-a (cut off: {}) paused {:?}, exited {exited_after:?} after SIGCONT with {status}",
        cut == Cut::FromPauseUntilExit,
        woken - paused
    );
    drop(b);
    dir.disable_cleanup(false);
}
