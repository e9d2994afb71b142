//! BackupShare: what CBR refuses comes back as a reason that says what to
//! do, and is not retried in a loop.

use serde_json::json;

use super::Running;
use super::backup_share::{
    create_share, is_ready, make_backup, owner_spec, peer_provider_config, projects, ready,
    share_when, share_writes,
};
use coffer::api::BackupShare;
use coffer::emulator::Operation;

#[tokio::test]
async fn an_owner_share_of_another_projects_backup_is_refused_with_its_reason() {
    let run = Running::start("bs-notowner").await;
    peer_provider_config(&run).await;
    let backup = make_backup(&run, "src").await;
    let peer = run.emulator.config().peer_project_id.clone();
    create_share(
        &run,
        "out",
        owner_spec(&backup, std::slice::from_ref(&peer), "Delete"),
    )
    .await;
    share_when(&run, "out", "the owner share Ready", is_ready).await;

    // The project the backup was shared with tries to share it on.
    let before = run.last_seq();
    let others = projects(1);
    create_share(
        &run,
        "reshare",
        json!({"providerConfigRef": {"name": "peer"}, "deletionPolicy": "Delete",
               "owner": {"backupId": backup, "members": others}}),
    )
    .await;
    let share = share_when(&run, "reshare", "Ready=False NotBackupOwner", |s| {
        ready(s).is_some_and(|(st, r)| st == "False" && r == "NotBackupOwner")
    })
    .await;
    let message = share
        .status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == "Ready"))
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains("receiver BackupShare"), "{message}");
    assert_eq!(
        share_writes(&run, before),
        vec![],
        "coffer tried to share a backup this project does not own"
    );
}

#[tokio::test]
async fn a_receiver_of_its_own_projects_backup_is_refused_with_its_reason() {
    let run = Running::start("bs-ownbackup").await;
    let backup = make_backup(&run, "src").await;
    let before = run.last_seq();
    create_share(
        &run,
        "in",
        json!({"providerConfigRef": {"name": "cloud"},
               "receiver": {"backupId": backup, "decision": "Reject"}}),
    )
    .await;
    share_when(&run, "in", "Ready=False OwnBackup", |s| {
        ready(s).is_some_and(|(st, r)| st == "False" && r == "OwnBackup")
    })
    .await;
    assert_eq!(
        share_writes(&run, before),
        vec![],
        "coffer answered a share of this project's own backup"
    );
}

#[tokio::test]
async fn a_member_in_another_region_is_refused_once_with_a_reason_that_says_so() {
    // No drift check comes within the test: any second AddMember would be
    // a retry of a terminal refusal, at the backoff's pace.
    let run = Running::start_with("bs-region", |s| {
        s.resync_interval = std::time::Duration::from_secs(600);
    })
    .await;
    let backup = make_backup(&run, "src").await;
    let far = run.emulator.config().other_region_project_id.clone();
    let before = run.last_seq();
    create_share(&run, "out", owner_spec(&backup, &[far], "Delete")).await;
    let share = share_when(&run, "out", "Synced=False naming the region", |s| {
        synced(s).is_some_and(|(st, _, m)| st == "False" && m.contains("another region"))
    })
    .await;
    assert_eq!(
        synced(&share).map(|(_, r, _)| r),
        Some("InvalidRequest".to_string()),
        "a terminal reason, not a retry"
    );
    // Terminal: tried again only at the next drift check, never at the
    // backoff's pace (100 ms to 2 s here).
    tokio::time::sleep(super::RESYNC * 4).await;
    let adds = run
        .emulator
        .requests(Some(Operation::AddMember))
        .into_iter()
        .filter(|r| r.seq > before)
        .count();
    assert_eq!(adds, 1, "{adds} AddMember calls for one refused spec");
}

fn synced(share: &BackupShare) -> Option<(String, String, String)> {
    share
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Synced")
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}
