//! The CBR vault routes: each parses its body against the API's schema,
//! runs one store operation and answers in the documented shape and status.

use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::list::ListQuery;
use super::store::VaultStore;
use super::validate::{self, MAX_TAGS};
use super::view;
use super::wire::{
    AddResourcesBody, BatchTagsBody, CreateTagBody, CreateVaultBody, RemoveResourcesBody,
    TagAction, UpdateVaultBody,
};
use crate::emulator::common::lock;
use crate::emulator::huawei::error::CbrError;
use crate::emulator::huawei::state::HuaweiState;
use crate::emulator::query::decode_query_pairs;

type VaultPath = Path<(String, String)>;

/// The store with every due change applied.
fn vaults(huawei: &HuaweiState) -> MutexGuard<'_, VaultStore> {
    let mut store = lock(&huawei.vaults);
    store.settle(Instant::now());
    store
}

/// The store, once `vault_id` is known to be `project`'s: CBR answers
/// another project's vault as not found.
fn project_vaults<'a>(
    huawei: &'a HuaweiState,
    project: &str,
    vault_id: &str,
) -> Result<MutexGuard<'a, VaultStore>, CbrError> {
    let store = vaults(huawei);
    store.get_in(project, vault_id)?;
    Ok(store)
}

/// Parses a body against the wire schema; any mismatch is a 400.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, CbrError> {
    serde_json::from_slice(body).map_err(|e| CbrError::invalid(format!("request body: {e}")))
}

fn vault_response(status: StatusCode, vault: serde_json::Value) -> Response {
    (status, Json(json!({ "vault": vault }))).into_response()
}

/// `POST /v3/{project_id}/vaults`
pub async fn create_vault(
    State(huawei): State<Arc<HuaweiState>>,
    Path(project): Path<String>,
    body: Bytes,
) -> Result<Response, CbrError> {
    let new = validate::new_vault(parse::<CreateVaultBody>(&body)?.vault)?;
    let mut store = vaults(&huawei);
    let record = store.create(&project, new, Timestamp::now())?;
    // BackupShare: a receiver accepts only into a vault of its own project.
    lock(&huawei.backups).note_vault(&record.id.to_string(), &project);
    let vault = view::created_vault(record, &huawei.identity);
    Ok(vault_response(StatusCode::OK, vault))
}

/// `GET /v3/{project_id}/vaults/{vault_id}`
pub async fn show_vault(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
) -> Result<Response, CbrError> {
    let store = vaults(&huawei);
    let record = store
        .get_in(&project, &vault_id)
        .map_err(CbrError::on_read)?;
    Ok(vault_response(
        StatusCode::OK,
        view::vault(record, &huawei.identity),
    ))
}

/// `GET /v3/{project_id}/vaults`
pub async fn list_vaults(
    State(huawei): State<Arc<HuaweiState>>,
    Path(project): Path<String>,
    uri: Uri,
) -> Result<Response, CbrError> {
    let query = ListQuery::parse(&decode_query_pairs(uri.query()))?;
    let store = vaults(&huawei);
    let page = query.page(store.newest_first_in(&project));
    let identity = &huawei.identity;
    let body = json!({
        "vaults": page.vaults.iter().map(|v| view::vault(v, identity)).collect::<Vec<_>>(),
        "count": page.count,
        "limit": query.limit,
        "offset": query.offset,
    });
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `PUT /v3/{project_id}/vaults/{vault_id}`
pub async fn update_vault(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
    body: Bytes,
) -> Result<Response, CbrError> {
    let update = parse::<UpdateVaultBody>(&body)?.vault;
    let mut store = project_vaults(&huawei, &project, &vault_id)?;
    let record = store.update(&vault_id, update)?;
    Ok(vault_response(
        StatusCode::OK,
        view::vault(record, &huawei.identity),
    ))
}

/// `DELETE /v3/{project_id}/vaults/{vault_id}`
pub async fn delete_vault(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
) -> Result<StatusCode, CbrError> {
    project_vaults(&huawei, &project, &vault_id)?.delete(&vault_id, Instant::now())?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v3/{project_id}/vaults/{vault_id}/addresources`
pub async fn add_resources(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
    body: Bytes,
) -> Result<Response, CbrError> {
    let body = parse::<AddResourcesBody>(&body)?;
    let ids = project_vaults(&huawei, &project, &vault_id)?.add_resources(
        &vault_id,
        &body.resources,
        Instant::now(),
    )?;
    Ok((StatusCode::OK, Json(json!({ "add_resource_ids": ids }))).into_response())
}

/// `POST /v3/{project_id}/vaults/{vault_id}/removeresources`
pub async fn remove_resources(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
    body: Bytes,
) -> Result<Response, CbrError> {
    let body = parse::<RemoveResourcesBody>(&body)?;
    let ids = project_vaults(&huawei, &project, &vault_id)?.remove_resources(
        &vault_id,
        &body.resource_ids,
        Instant::now(),
    )?;
    Ok((StatusCode::OK, Json(json!({ "remove_resource_ids": ids }))).into_response())
}

/// `GET /v3/{project_id}/vault/{vault_id}/tags`
pub async fn show_tags(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
) -> Result<Response, CbrError> {
    let store = vaults(&huawei);
    let record = store
        .get_in(&project, &vault_id)
        .map_err(CbrError::on_read)?;
    let body = json!({"tags": view::tags(&record.tags), "sys_tags": []});
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// `POST /v3/{project_id}/vault/{vault_id}/tags`: add one, or replace its value.
pub async fn create_tag(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
    body: Bytes,
) -> Result<StatusCode, CbrError> {
    let tag = validate::tag(&parse::<CreateTagBody>(&body)?.tag)?;
    project_vaults(&huawei, &project, &vault_id)?.upsert_tags(&vault_id, vec![tag])?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v3/{project_id}/vault/{vault_id}/tags/action`
pub async fn batch_tags(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id)): VaultPath,
    body: Bytes,
) -> Result<StatusCode, CbrError> {
    let body = parse::<BatchTagsBody>(&body)?;
    if body.sys_tags.as_ref().is_some_and(|t| !t.is_empty()) {
        return Err(CbrError::invalid(
            "sys_tags (enterprise project tags) are not emulated",
        ));
    }
    let tags = body.tags.unwrap_or_default();
    match body.action {
        TagAction::Create => {
            let tags = validate::tag_list(&tags, MAX_TAGS, "tags")?;
            project_vaults(&huawei, &project, &vault_id)?.upsert_tags(&vault_id, tags)?;
        }
        TagAction::Delete => {
            // A value is optional when deleting; only the key is checked.
            let keys = tags
                .iter()
                .map(|t| validate::tag_key(&t.key))
                .collect::<Result<Vec<_>, _>>()?;
            project_vaults(&huawei, &project, &vault_id)?.delete_tags(&vault_id, &keys)?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v3/{project_id}/vault/{vault_id}/tags/{key}`
pub async fn delete_tag(
    State(huawei): State<Arc<HuaweiState>>,
    Path((project, vault_id, key)): Path<(String, String, String)>,
) -> Result<StatusCode, CbrError> {
    let key = validate::tag_key(&key)?;
    project_vaults(&huawei, &project, &vault_id)?.delete_tags(&vault_id, &[key])?;
    Ok(StatusCode::NO_CONTENT)
}
