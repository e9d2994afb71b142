//! A standby keeps its caches warm: it watches from the start, so a
//! takeover lists nothing again. At 100,000 objects a relist is most of a
//! minute of the API server's time and of the new leader's CPU, which is
//! what a failover of 15 s cannot afford.
//!
//! The standby reaches the API server through a proxy that counts the
//! bytes the API server sends it: the receiving side's own record of what
//! crossed, not coffer's log. After the takeover the new leader must have
//! been sent far less than one listing of the vaults it manages.

use std::time::{Duration, Instant};

use coffer::api::BackupVault;
use coffer::controlplane::process::free_port;
use kube::api::ListParams;
use serde_json::json;

use super::leader_fence::{holder, proxied, replica, replica_on, signal};
use super::operating::Scrape;
use super::{Running, eventually, is_ready};
use crate::support::env;

const VAULTS: usize = 120;

#[tokio::test]
async fn a_standby_takes_over_without_listing_again() {
    // The cloud and the namespace, but no controllers in this process.
    let run = Running::start_instead("warm", |_| {}, |_, _, _| futures::future::pending()).await;
    let mut dir = tempfile::tempdir().expect("a log directory");
    dir.disable_cleanup(true);
    let (log_a, log_b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let (proxy, through_proxy) = proxied(dir.path()).await;

    let a = replica(&run, "replica-a", "24h", &env().kubeconfig, &log_a);
    eventually("replica-a holds the lease", || async {
        (holder(&run).await.as_deref() == Some("replica-a")).then_some(())
    })
    .await;
    let names: Vec<String> = (0..VAULTS).map(|i| format!("warm-{i}")).collect();
    for name in &names {
        run.create_vault(name, json!({})).await;
    }
    for name in &names {
        run.vault_when(name, "Ready under replica-a", is_ready)
            .await;
    }
    let port = free_port().expect("a free port");
    let b = replica_on(port, &run, "replica-b", "24h", &through_proxy, &log_b);
    eventually(
        "replica-b, standing by, has every vault in its cache",
        || async {
            let cached = Scrape::of(port)
                .await?
                .value("coffer_objects", &[("kind", "BackupVault")])?;
            (cached == VAULTS as f64).then_some(())
        },
    )
    .await;
    assert_eq!(holder(&run).await.as_deref(), Some("replica-a"));

    // What one listing of the vaults weighs, as the API server sends it.
    let listing = run
        .api::<BackupVault>()
        .list(&ListParams::default())
        .await
        .expect("the vaults");
    let one_listing = serde_json::to_vec(&listing).expect("json").len() as u64;
    let before = proxy.downstream_bytes();

    signal(&a, libc::SIGTERM);
    let stopped = Instant::now();
    eventually("replica-b takes the lease over", || async {
        (holder(&run).await.as_deref() == Some("replica-b")).then_some(())
    })
    .await;
    run.create_vault("after-takeover", json!({})).await;
    run.vault_when("after-takeover", "Ready under replica-b", is_ready)
        .await;
    let took_over = stopped.elapsed();
    // Whatever the takeover reconciles (every object once) has run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = proxy.downstream_bytes() - before;
    eprintln!(
        "[warm-standby] takeover to a new vault Ready: {took_over:?}; the API server sent the new leader {sent} bytes, one listing of the vaults is {one_listing}"
    );
    assert!(
        sent < one_listing / 2,
        "the new leader was sent {sent} bytes after the takeover, more than half of one listing of the vaults ({one_listing}): it listed again; log: {}",
        log_b.display()
    );
    for name in &names {
        run.vault_when(name, "still Ready under replica-b", is_ready)
            .await;
    }
    drop(b);
    dir.disable_cleanup(false);
}
