//! The Huawei part of the admin API (`/_emulator/vaults`) and of
//! `RunningEmulator`'s methods: CBR's raw vault store, and IAM's agency
//! read delay.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::cbr::view;
use super::state::HuaweiState;
use crate::emulator::common::lock;

pub fn router(huawei: Arc<HuaweiState>) -> Router {
    Router::new()
        .route("/_emulator/vaults", get(vaults))
        .with_state(huawei)
}

/// Every stored vault (including `deleting` ones) as CBR renders it, plus
/// the resource changes still waiting for the association delay.
pub fn vaults_of(huawei: &HuaweiState) -> Value {
    let identity = &huawei.identity;
    let mut store = lock(&huawei.vaults);
    store.settle(Instant::now());
    let vaults: Vec<Value> = store
        .newest_first()
        .map(|record| {
            let pending = store.pending_ids(record.id);
            let mut vault = view::vault(record, identity);
            vault["_emulator"] = json!({
                "pending_add": pending.add,
                "pending_remove": pending.remove,
            });
            vault
        })
        .collect();
    json!({"count": vaults.len(), "vaults": vaults})
}

/// How long GET answers 404 for agencies created from now on.
pub fn set_agency_read_delay(huawei: &HuaweiState, delay: Duration) {
    lock(&huawei.agencies).set_read_delay(delay);
}

async fn vaults(State(huawei): State<Arc<HuaweiState>>) -> Json<Value> {
    Json(vaults_of(&huawei))
}
