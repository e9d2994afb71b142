//! The CBR routes behind BackupShare: checkpoints that make backups, the
//! backup list and show, and the share members of a backup. The caller's
//! project is the path's, which the gateway has already matched with the
//! credentials.

use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::backups::{
    Answer, BackupRecord, BackupStore, MemberRecord, MemberStatus, OwnType, SERVER_PROVIDER_ID,
};
use super::share_error::ShareError;
use crate::emulator::common::lock;
use crate::emulator::huawei::state::HuaweiState;
use crate::emulator::query::{decode_query_pairs, query_map};

type BackupPath = Path<(String, String)>;
type MemberPath = Path<(String, String, String)>;

fn backups(huawei: &HuaweiState) -> MutexGuard<'_, BackupStore> {
    lock(&huawei.backups)
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ShareError> {
    serde_json::from_slice(body)
        .map_err(|e| ShareError::InvalidParameter(format!("request body: {e}")))
}

fn now() -> (Timestamp, Instant) {
    (Timestamp::now(), Instant::now())
}

/// CBR's naive UTC times, e.g. `2020-02-05T10:38:34.209782`.
fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

#[derive(Debug, Deserialize)]
struct CheckpointBody {
    checkpoint: CheckpointCreate,
}

#[derive(Debug, Deserialize)]
struct CheckpointCreate {
    vault_id: String,
    #[serde(default)]
    parameters: Option<CheckpointParameters>,
}

#[derive(Debug, Default, Deserialize)]
struct CheckpointParameters {
    #[serde(default)]
    resources: Option<Vec<String>>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /v3/{project_id}/checkpoints`: one backup per resource of the vault.
pub async fn create_checkpoint(
    State(huawei): State<Arc<HuaweiState>>,
    Path(project): Path<String>,
    body: Bytes,
) -> Result<Response, ShareError> {
    let body = parse::<CheckpointBody>(&body)?.checkpoint;
    let params = body.parameters.unwrap_or_default();
    let (vault_name, resources) = {
        let mut vaults = lock(&huawei.vaults);
        vaults.settle(Instant::now());
        let vault = vaults
            .get(&body.vault_id)
            .map_err(|_| ShareError::VaultNotFound(body.vault_id.clone()))?;
        let wanted = params.resources.as_ref();
        let resources: Vec<_> = vault
            .resources
            .iter()
            .filter(|r| wanted.is_none_or(|w| w.contains(&r.id)))
            .cloned()
            .collect();
        (vault.settings.name.clone(), resources)
    };
    let checkpoint = backups(&huawei).checkpoint(&project, &body.vault_id, &resources, now());
    tracing::info!(checkpoint = %checkpoint.id, backups = checkpoint.backups.len(), "checkpoint made");
    let body = json!({"checkpoint": {
        "id": checkpoint.id,
        "project_id": project,
        "status": "protecting",
        "created_at": time(checkpoint.created_at),
        "vault": {
            "id": checkpoint.vault_id,
            "name": vault_name,
            "resources": resources.iter().map(|r| json!({
                "id": r.id, "name": r.name, "type": "OS::Nova::Server",
                "protect_status": "protecting", "resource_size": "40", "extra_info": "{}",
            })).collect::<Vec<_>>(),
            "skipped_resources": [],
        },
        "extra_info": {"name": params.name, "description": params.description},
    }});
    Ok((StatusCode::OK, Json(body)).into_response())
}

fn backup_view(b: &BackupRecord, now: Instant) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "description": "",
        "checkpoint_id": b.checkpoint_id,
        "project_id": b.project_id,
        "vault_id": b.vault_id,
        "provider_id": SERVER_PROVIDER_ID,
        "resource_id": b.resource_id,
        "resource_name": b.resource_name,
        "resource_type": b.resource_type,
        "resource_size": 40,
        "resource_az": "",
        "image_type": "backup",
        "status": b.status(now),
        "created_at": time(b.created_at),
        "updated_at": time(b.created_at),
        "protected_at": time(b.created_at),
        "enterprise_project_id": "0",
        "incremental": false,
        "children": [],
        "extend_info": {"auto_trigger": false, "bootable": true, "supported_restore_mode": "backup"},
        "replication_records": [],
    })
}

/// `GET /v3/{project_id}/backups`, with `own_type`, `member_status`,
/// `checkpoint_id`, `vault_id`, `resource_id`, `limit` and `offset`.
pub async fn list_backups(
    State(huawei): State<Arc<HuaweiState>>,
    Path(project): Path<String>,
    uri: Uri,
) -> Result<Response, ShareError> {
    let q = query_map(&decode_query_pairs(uri.query()));
    let own_type = match q.get("own_type").map(String::as_str) {
        None | Some("private") => OwnType::Private,
        Some("shared") => OwnType::Shared,
        Some("all_granted") => OwnType::AllGranted,
        Some(other) => return Err(ShareError::InvalidParameter(format!("own_type {other:?}"))),
    };
    let member_status = match q.get("member_status") {
        Some(s) => Some(
            MemberStatus::parse(s)
                .ok_or_else(|| ShareError::InvalidParameter(format!("member_status {s:?}")))?,
        ),
        None => None,
    };
    let number = |key: &str, default: usize| -> Result<usize, ShareError> {
        q.get(key).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ShareError::InvalidParameter(format!("{key} {v:?}")))
        })
    };
    let (limit, offset) = (number("limit", 1000)?, number("offset", 0)?);
    let store = backups(&huawei);
    let at = Instant::now();
    let matching: Vec<&BackupRecord> = store
        .visible(&project, own_type)
        .filter(|b| {
            ["checkpoint_id", "vault_id", "resource_id"]
                .iter()
                .all(|key| {
                    q.get(*key).is_none_or(|want| match *key {
                        "checkpoint_id" => b.checkpoint_id.to_string() == *want,
                        "vault_id" => b.vault_id == *want,
                        _ => b.resource_id == *want,
                    })
                })
        })
        .filter(|b| {
            member_status.is_none_or(|s| {
                b.members
                    .iter()
                    .any(|m| m.dest_project_id == project && m.status == s)
            })
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|b| backup_view(b, at))
        .collect();
    let body = json!({"backups": page, "count": matching.len(), "limit": limit, "offset": offset});
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `GET /v3/{project_id}/backups/{backup_id}`: the owner's, or one shared with the project.
pub async fn show_backup(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, id)): BackupPath,
) -> Result<Response, ShareError> {
    let store = backups(&huawei);
    let backup = store.get(&project, &id).map_err(|e| match e {
        ShareError::MalformedUrl => ShareError::BackupNotFound(id.clone()),
        other => other,
    })?;
    Ok((
        StatusCode::OK,
        Json(json!({"backup": backup_view(backup, Instant::now())})),
    )
        .into_response())
}

/// `DELETE /v3/{project_id}/backups/{backup_id}`: the owner deletes a backup and its share.
pub async fn delete_backup(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, id)): BackupPath,
) -> Result<StatusCode, ShareError> {
    backups(&huawei)
        .delete(&project, &id)
        .map_err(|e| match e {
            ShareError::MalformedUrl => ShareError::BackupNotFound(id.clone()),
            other => other,
        })?;
    Ok(StatusCode::NO_CONTENT)
}

fn member_view(backup_id: &str, m: &MemberRecord) -> Value {
    json!({
        "id": m.id,
        "backup_id": backup_id,
        "dest_project_id": m.dest_project_id,
        "status": m.status.as_str(),
        "vault_id": m.vault_id,
        "image_id": m.image_id,
        "created_at": time(m.created_at),
        "updated_at": m.updated_at.map(time),
    })
}

#[derive(Debug, Deserialize)]
struct AddMembersBody {
    members: Vec<String>,
}

/// `POST /v3/{project_id}/backups/{backup_id}/members` (owner only).
pub async fn add_members(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, id)): BackupPath,
    body: Bytes,
) -> Result<Response, ShareError> {
    let body = parse::<AddMembersBody>(&body)?;
    let added = backups(&huawei).add_members(&project, &id, &body.members, now())?;
    let members: Vec<Value> = added.iter().map(|m| member_view(&id, m)).collect();
    Ok((
        StatusCode::OK,
        Json(json!({"members": members, "count": added.len()})),
    )
        .into_response())
}

/// `GET /v3/{project_id}/backups/{backup_id}/members` (owner only), with
/// `dest_project_id`, `status`, `vault_id`, `image_id`, `limit`, `offset`.
pub async fn list_members(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, id)): BackupPath,
    uri: Uri,
) -> Result<Response, ShareError> {
    let q = query_map(&decode_query_pairs(uri.query()));
    let number = |key: &str, default: usize| -> Result<usize, ShareError> {
        q.get(key).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| ShareError::InvalidParameter(format!("{key} {v:?}")))
        })
    };
    let (limit, offset) = (number("limit", 1000)?, number("offset", 0)?);
    let mut store = backups(&huawei);
    let members = store.members(&project, &id)?;
    let matching: Vec<&MemberRecord> = members
        .iter()
        .filter(|m| {
            q.get("dest_project_id")
                .is_none_or(|v| &m.dest_project_id == v)
        })
        .filter(|m| q.get("status").is_none_or(|v| m.status.as_str() == v))
        .filter(|m| {
            q.get("vault_id")
                .is_none_or(|v| m.vault_id.as_ref() == Some(v))
        })
        .filter(|m| {
            q.get("image_id")
                .is_none_or(|v| m.image_id.as_ref() == Some(v))
        })
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|m| member_view(&id, m))
        .collect();
    Ok((
        StatusCode::OK,
        Json(json!({"members": page, "count": matching.len()})),
    )
        .into_response())
}

/// `GET /v3/{project_id}/backups/{backup_id}/members/{member_id}`: the
/// owner, or the member itself.
pub async fn show_member(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, id, member)): MemberPath,
) -> Result<Response, ShareError> {
    let store = backups(&huawei);
    let record = store.member(&project, &id, &member)?;
    Ok((
        StatusCode::OK,
        Json(json!({"member": member_view(&id, record)})),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
struct UpdateMemberBody {
    status: String,
    #[serde(default)]
    vault_id: Option<String>,
}

/// `PUT /v3/{project_id}/backups/{backup_id}/members/{member_id}` (seed
/// 001; the member only): accepting needs a vault, which it then fills.
pub async fn update_member(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, id, member)): MemberPath,
    body: Bytes,
) -> Result<Response, ShareError> {
    let body = parse::<UpdateMemberBody>(&body)?;
    let status = MemberStatus::parse(&body.status)
        .ok_or_else(|| ShareError::InvalidParameter(format!("status {:?}", body.status)))?;
    // Lock order: vaults, then backups (as create_vault takes them).
    let alive = body.vault_id.as_deref().is_some_and(|vault| {
        let mut vaults = lock(&huawei.vaults);
        vaults.settle(Instant::now());
        vaults.get(vault).is_ok_and(|v| !v.deleting)
    });
    let mut store = backups(&huawei);
    let own = body
        .vault_id
        .as_deref()
        .is_some_and(|vault| store.vault_of(vault, &project));
    let record = store.update_member(
        &project,
        &id,
        &member,
        Answer {
            status,
            vault_id: body.vault_id,
        },
        |_| alive && own,
        Timestamp::now(),
    )?;
    Ok((
        StatusCode::OK,
        Json(json!({"member": member_view(&id, &record)})),
    )
        .into_response())
}

/// `DELETE /v3/{project_id}/backups/{backup_id}/members/{member_id}` (owner only).
pub async fn delete_member(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, id, member)): MemberPath,
) -> Result<StatusCode, ShareError> {
    backups(&huawei).delete_member(&project, &id, &member)?;
    Ok(StatusCode::NO_CONTENT)
}
