//! The owner's BackupShare learns a receiver's answer promptly: when both
//! sides are in this cluster, the receiver's change wakes the owner, long
//! before its next drift check.

use std::time::{Duration, Instant};

use coffer::api::BackupShare;
use serde_json::json;

use super::Running;
use super::backup_share::{
    create_share, is_ready, make_backup, owner_spec, peer_provider_config, share_when,
};

/// The status the owner shows for member `project`.
fn member_status(share: &BackupShare, project: &str) -> Option<String> {
    share
        .status
        .as_ref()?
        .at_provider
        .as_ref()?
        .members
        .iter()
        .find(|m| m.project_id == project)
        .map(|m| m.status.clone())
}

#[tokio::test]
async fn the_owner_shows_the_receivers_answer_without_waiting_for_the_drift_check() {
    // No drift check and no polling within the test: only a wake-up can tell.
    let long = Duration::from_secs(600);
    let run = Running::start_with("bs-answer", |s| {
        s.resync_interval = long;
        s.poll_interval = long;
    })
    .await;
    peer_provider_config(&run).await;
    let backup = make_backup(&run, "src").await;
    let peer = run.emulator.config().peer_project_id.clone();
    create_share(
        &run,
        "out",
        owner_spec(&backup, std::slice::from_ref(&peer), "Delete"),
    )
    .await;
    share_when(
        &run,
        "out",
        "the owner share Ready, the member pending",
        |s| is_ready(s) && member_status(s, &peer).as_deref() == Some("pending"),
    )
    .await;

    create_share(
        &run,
        "in",
        json!({"providerConfigRef": {"name": "peer"},
               "receiver": {"backupId": backup, "decision": "Reject"}}),
    )
    .await;
    let started = Instant::now();
    share_when(&run, "out", "the owner showing the rejection", |s| {
        member_status(s, &peer).as_deref() == Some("rejected")
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
