//! BackupShare end to end, both sides: the owner project's member set and
//! the receiving project's answer, each with its own ProviderConfig and
//! credentials against the emulator's two projects. Each test asserts what
//! CBR received (the emulator's log) and what the user reads (status).

use std::sync::Arc;
use std::time::Duration;

use coffer::api::BackupShare;
use coffer::emulator::{Operation, RecordedRequest};
use coffer::provider::ProviderError;
use coffer::provider::huawei::HuaweiCredentials;
use coffer::provider::huawei::cbr::{CbrVaultApi, VaultResource};
use coffer::provider::huawei::client::{Call, CbrClient, HuaweiConnection};
use coffer::provider::huawei::transport::{Response, unlimited};
use coffer::provider::metrics::ProviderMetrics;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use reqwest::Method;
use serde_json::{Value, json};

use super::engine::matching_vault;
use super::{Running, eventually};

const SHARE_OPS: [Operation; 4] = [
    Operation::AddMember,
    Operation::DeleteMember,
    Operation::UpdateMemberStatus,
    Operation::DeleteBackup,
];

pub(super) fn projects(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{:032x}", 0xa000 + i)).collect()
}

/// A CBR client of the owner project, for what the test does by hand.
pub(super) fn owner_client(run: &Running) -> CbrClient {
    let c = run.emulator.config();
    let conn = HuaweiConnection {
        region: c.region.clone(),
        project_id: c.project_id.clone(),
        domain_id: None,
        iam_endpoint: run.emulator.base_url(),
        cbr_endpoint: run.emulator.base_url(),
        ca_bundle: None,
        credentials: HuaweiCredentials::AccessKey {
            access_key: c.access_key.clone(),
            secret_key: c.secret_key.clone(),
        },
    };
    CbrClient::new(&conn, Arc::new(ProviderMetrics::default()), unlimited()).expect("owner client")
}

/// The members CBR lists for `backup`, read as its owner.
pub(super) async fn members_of(run: &Running, backup: &str) -> Vec<Value> {
    let members =
        Call::new("list_members", Method::GET, "members").path(&["backups", backup, "members"]);
    let page = owner_client(run)
        .call(&members, json_of)
        .await
        .expect("members");
    page["members"].as_array().cloned().unwrap_or_default()
}

pub(super) fn json_of(resp: &Response) -> Result<Value, ProviderError> {
    serde_json::from_slice(&resp.body).map_err(|e| ProviderError::Transient {
        message: e.to_string(),
    })
}

/// A server backup of the owner project, made as CBR makes one (a vault
/// `vault` with a server, a checkpoint), once it is `available`.
pub(super) async fn make_backup(run: &Running, vault: &str) -> String {
    let vault = run
        .cbr
        .create(&matching_vault(vault, |v| {
            v.resources = vec![VaultResource {
                id: format!("srv-{vault}"),
                type_: "OS::Nova::Server".into(),
                exclude_volumes: vec![],
            }];
        }))
        .await
        .expect("a source vault");
    let client = owner_client(run);
    let checkpoint = Call::new("create_checkpoint", Method::POST, "checkpoint")
        .path(&["checkpoints"])
        .json(&json!({"checkpoint": {"vault_id": vault.id, "parameters": {}}}))
        .expect("body");
    let made = client
        .call(&checkpoint, json_of)
        .await
        .expect("a checkpoint");
    let checkpoint_id = made["checkpoint"]["id"].as_str().expect("id").to_string();
    eventually("the backup is available", || async {
        let list = Call::new("list_backups", Method::GET, "backups")
            .path(&["backups"])
            .query(&[("checkpoint_id", checkpoint_id.clone())]);
        let page = client.call(&list, json_of).await.ok()?;
        let backup = page["backups"].get(0)?;
        (backup["status"] == "available").then(|| backup["id"].as_str().map(str::to_string))?
    })
    .await
}

/// A Secret and ProviderConfig `peer` for the emulator's second project.
pub(super) async fn peer_provider_config(run: &Running) {
    let c = run.emulator.config().clone();
    run.create_secret(
        "peer-creds",
        &[
            ("accessKey", &c.peer_access_key),
            ("secretKey", &c.peer_secret_key),
        ],
    )
    .await;
    let pc = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": "peer"},
        "spec": {"huaweiCloud": {
            "region": c.region, "projectId": c.peer_project_id,
            "endpoints": {"iam": run.emulator.base_url(), "cbr": run.emulator.base_url()},
            "credentials": {"type": "AccessKey", "secretRef": {"name": "peer-creds"}},
        }},
    }))
    .expect("provider config");
    run.api::<coffer::api::ProviderConfig>()
        .create(&PostParams::default(), &pc)
        .await
        .expect("creating the peer ProviderConfig");
}

pub(super) async fn create_share(run: &Running, name: &str, spec: Value) {
    let share: BackupShare = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupShare",
        "metadata": {"name": name}, "spec": spec,
    }))
    .expect("backup share");
    run.api::<BackupShare>()
        .create(&PostParams::default(), &share)
        .await
        .expect("creating the BackupShare");
}

pub(super) fn owner_spec(backup: &str, members: &[String], policy: &str) -> Value {
    json!({"providerConfigRef": {"name": "cloud"}, "deletionPolicy": policy,
           "owner": {"backupId": backup, "members": members}})
}

pub(super) fn ready(share: &BackupShare) -> Option<(String, String)> {
    let c = share
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")?;
    Some((c.status.clone(), c.reason.clone()))
}

pub(super) async fn share_when(
    run: &Running,
    name: &str,
    what: &str,
    check: impl Fn(&BackupShare) -> bool,
) -> BackupShare {
    let api = run.api::<BackupShare>();
    eventually(what, || async {
        api.get_opt(name).await.ok().flatten().filter(|s| check(s))
    })
    .await
}

pub(super) fn is_ready(share: &BackupShare) -> bool {
    ready(share).is_some_and(|(s, _)| s == "True")
}

/// The share writes (and backup deletes) after request `after`.
pub(super) fn share_writes(run: &Running, after: u64) -> Vec<RecordedRequest> {
    run.emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > after && SHARE_OPS.contains(&r.operation))
        .collect()
}

fn member_ids(share: &BackupShare) -> Vec<String> {
    share
        .status
        .as_ref()
        .and_then(|s| s.at_provider.as_ref())
        .map(|a| a.members.iter().map(|m| m.project_id.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn owner_adds_three_members_in_one_call_and_removes_one_with_one_delete() {
    let run = Running::start("bs-owner").await;
    let backup = make_backup(&run, "src").await;
    let members = projects(3);
    let before = run.last_seq();
    create_share(&run, "s", owner_spec(&backup, &members, "Delete")).await;
    share_when(&run, "s", "the share Ready with 3 members", |s| {
        is_ready(s) && member_ids(s).len() == 3
    })
    .await;
    let writes = share_writes(&run, before);
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0].operation, Operation::AddMember);
    let mut sent: Vec<String> =
        serde_json::from_value(writes[0].body["members"].clone()).expect("ids");
    sent.sort();
    assert_eq!(sent, members);

    // A no-op resync (RESYNC is 1 s) writes nothing.
    let idle = run.last_seq();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(share_writes(&run, idle), [], "a no-op resync wrote");

    let before = run.last_seq();
    run.api::<BackupShare>()
        .patch(
            "s",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"owner": {"members": &members[..2]}}})),
        )
        .await
        .expect("dropping a member");
    share_when(&run, "s", "2 members", |s| member_ids(s).len() == 2).await;
    let writes = share_writes(&run, before);
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0].operation, Operation::DeleteMember);
    assert!(writes[0].path.ends_with(&members[2]), "{}", writes[0].path);
}

#[tokio::test]
async fn receiver_accepts_into_a_vault_ref_with_one_put_then_rejects_with_one_put() {
    let run = Running::start("bs-recv").await;
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

    let vault: coffer::api::BackupVault = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault", "metadata": {"name": "shared-in"},
        "spec": {"providerConfigRef": {"name": "peer"}, "huaweiCloud": {"name": "shared-in",
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server", "protectType": "backup", "size": 100}}},
    }))
    .expect("vault");
    let before = run.last_seq();
    create_share(
        &run,
        "in",
        json!({"providerConfigRef": {"name": "peer"},
        "receiver": {"backupId": backup, "decision": "Accept", "vaultRef": {"name": "shared-in"}}}),
    )
    .await;
    share_when(&run, "in", "WaitingForVault", |s| {
        ready(s).is_some_and(|(_, r)| r == "WaitingForVault")
    })
    .await;
    run.api::<coffer::api::BackupVault>()
        .create(&PostParams::default(), &vault)
        .await
        .expect("creating the receiver's vault");
    let vault_id = run
        .vault_when("shared-in", "the receiver's vault Ready", super::is_ready)
        .await
        .status
        .and_then(|s| s.external_id)
        .expect("vault id");
    let accepted = share_when(&run, "in", "the receiver share Ready", is_ready).await;
    let puts: Vec<_> = share_writes(&run, before)
        .into_iter()
        .filter(|r| r.operation == Operation::UpdateMemberStatus)
        .collect();
    assert_eq!(puts.len(), 1, "{puts:#?}");
    assert_eq!(
        puts[0].body,
        json!({"status": "accepted", "vault_id": vault_id})
    );
    let member = accepted
        .status
        .and_then(|s| s.at_provider)
        .and_then(|a| a.member)
        .expect("the member record");
    assert!(member.image_id.is_some(), "{member:?}");
    share_when(&run, "out", "the owner sees the member accepted", |s| {
        s.status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .is_some_and(|a| {
                a.members
                    .iter()
                    .any(|m| m.project_id == peer && m.status == "accepted")
            })
    })
    .await;

    let before = run.last_seq();
    run.api::<BackupShare>()
        .patch(
            "in",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"receiver": {"decision": "Reject", "vaultRef": null}}})),
        )
        .await
        .expect("switching to Reject");
    share_when(&run, "in", "rejected", |s| {
        is_ready(s)
            && s.status
                .as_ref()
                .and_then(|s| s.at_provider.as_ref())
                .and_then(|a| a.member.as_ref())
                .is_some_and(|m| m.status == "rejected")
    })
    .await;
    let puts = share_writes(&run, before);
    assert_eq!(puts.len(), 1, "{puts:#?}");
    assert_eq!(puts[0].body, json!({"status": "rejected"}));
}

#[tokio::test]
async fn a_deleted_backup_is_reported_without_a_retry_storm_or_token_refresh() {
    let run = Running::start("bs-gone").await;
    let c = run.emulator.config().clone();
    // Password sign-in, so a token refresh would show as a CreateToken.
    run.create_secret(
        "pw",
        &[
            ("username", &c.username),
            ("password", &c.password),
            ("domainName", &c.domain_name),
        ],
    )
    .await;
    let pc = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "pw"},
        "spec": {"huaweiCloud": {"region": c.region, "projectId": c.project_id, "domainId": c.domain_id,
            "endpoints": {"iam": run.emulator.base_url(), "cbr": run.emulator.base_url()},
            "credentials": {"type": "Password", "secretRef": {"name": "pw"}}}},
    }))
    .expect("provider config");
    run.api::<coffer::api::ProviderConfig>()
        .create(&PostParams::default(), &pc)
        .await
        .expect("creating the password ProviderConfig");
    let backup = make_backup(&run, "src").await;
    let mut spec = owner_spec(&backup, &projects(1), "Delete");
    spec["providerConfigRef"]["name"] = json!("pw");
    create_share(&run, "s", spec).await;
    share_when(&run, "s", "Ready", is_ready).await;

    let delete = Call::new("delete_backup", Method::DELETE, "backup").path(&["backups", &backup]);
    owner_client(&run)
        .call(&delete, |_| Ok(()))
        .await
        .expect("deleting the backup out of band");
    let gone = share_when(&run, "s", "BackupNotFound", |s| {
        ready(s).is_some_and(|(st, r)| st == "False" && r == "BackupNotFound")
    })
    .await;
    let message = gone
        .status
        .iter()
        .flat_map(|s| s.conditions.iter())
        .find(|c| c.type_ == "Ready")
        .map(|c| c.message.clone())
        .unwrap_or_default();
    assert!(message.contains(&backup), "{message}");

    let seq = run.last_seq();
    let tokens_before = run.emulator.requests(Some(Operation::CreateToken)).len();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let lists: Vec<RecordedRequest> = run
        .emulator
        .requests(Some(Operation::ShowMembersDetail))
        .into_iter()
        .filter(|r| r.seq > seq)
        .collect();
    // RESYNC is 1 s: about one look per second, not a storm.
    assert!(lists.len() <= 8, "{} member lists in 4 s", lists.len());
    assert!(tokens_before > 0, "the password ProviderConfig signed in");
    assert!(
        !lists.is_empty() && lists.iter().all(|r| r.status == 401),
        "each look met CBR's 401 quirk: {lists:#?}"
    );
    assert_eq!(
        share_writes(&run, seq),
        [],
        "no writes against a deleted backup"
    );
    assert_eq!(
        run.emulator.requests(Some(Operation::CreateToken)).len(),
        tokens_before,
        "the 401 quirk refreshed the token"
    );
}

#[tokio::test]
async fn deleting_removes_coffers_members_and_orphan_keeps_them() {
    let run = Running::start("bs-del").await;
    // Two backups: two owner shares of one backup would fight over its members.
    let deleted = make_backup(&run, "src-del").await;
    let kept = make_backup(&run, "src-keep").await;
    let members = projects(1);
    create_share(&run, "del", owner_spec(&deleted, &members, "Delete")).await;
    create_share(&run, "keep", owner_spec(&kept, &members, "Orphan")).await;
    for name in ["del", "keep"] {
        share_when(&run, name, "Ready", is_ready).await;
    }
    let api = run.api::<BackupShare>();
    for name in ["del", "keep"] {
        api.delete(name, &DeleteParams::default())
            .await
            .expect("deleting");
    }
    eventually("both BackupShares gone", || async {
        let left = api.list(&Default::default()).await.ok()?.items.len();
        (left == 0).then_some(())
    })
    .await;
    let client = owner_client(&run);
    let members_of = |backup: &str| {
        let list =
            Call::new("list_members", Method::GET, "members").path(&["backups", backup, "members"]);
        let client = &client;
        async move {
            let page = client.call(&list, json_of).await.expect("members");
            page["members"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["dest_project_id"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        members_of(&deleted).await,
        Vec::<String>::new(),
        "Delete removes coffer's members"
    );
    assert_eq!(members_of(&kept).await, members, "Orphan keeps them");
}

#[tokio::test]
async fn a_receiver_before_the_owner_shares_says_so_and_polls_gently() {
    let run = Running::start("bs-wait").await;
    peer_provider_config(&run).await;
    let backup = make_backup(&run, "src").await;
    create_share(
        &run,
        "in",
        json!({"providerConfigRef": {"name": "peer"},
               "receiver": {"backupId": backup, "decision": "Reject"}}),
    )
    .await;
    share_when(&run, "in", "ShareNotVisible", |s| {
        ready(s).is_some_and(|(st, r)| st == "False" && r == "ShareNotVisible")
    })
    .await;
    let seq = run.last_seq();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let looks = run
        .emulator
        .requests(Some(Operation::ShowMemberDetail))
        .into_iter()
        .filter(|r| r.seq > seq)
        .count();
    // The tests' poll interval is 300 ms (±20 %): about ten looks, no storm.
    assert!((1..=15).contains(&looks), "{looks} looks in 3 s");
    assert_eq!(share_writes(&run, seq), [], "nothing to answer yet");

    let peer = run.emulator.config().peer_project_id.clone();
    create_share(&run, "out", owner_spec(&backup, &[peer], "Delete")).await;
    share_when(&run, "in", "rejected once shared", is_ready).await;
    let puts: Vec<_> = share_writes(&run, seq)
        .into_iter()
        .filter(|r| r.operation == Operation::UpdateMemberStatus)
        .collect();
    assert_eq!(puts.len(), 1, "{puts:#?}");
    assert_eq!(puts[0].body, json!({"status": "rejected"}));
}
