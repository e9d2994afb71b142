//! What an operator's own `/metrics` says.

use serde_json::json;

use super::operator::Operator;

async fn metrics(op: &Operator) -> String {
    match reqwest::get(op.metrics_url()).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The operator's own account of its heap (`coffer_heap_bytes`), in MiB.
pub async fn heap_mib(op: &Operator) -> serde_json::Value {
    let text = metrics(op).await;
    let gauge = |state: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("coffer_heap_bytes{{state=\"{state}\"}}")))
            .and_then(|l| l.rsplit_once(' '))
            .and_then(|(_, v)| v.parse::<f64>().ok())
            .map(|b| b / 1048576.0)
    };
    json!({"in_use": gauge("in_use"), "free": gauge("free")})
}

/// The reconciles of BackupVaults and Agencies `op` has counted so far
/// (`coffer_reconciles_total`, every result): each drift check is one.
pub async fn reconciles(op: &Operator) -> f64 {
    let text = metrics(op).await;
    text.lines()
        .filter(|l| {
            ["BackupVault", "Agency"]
                .iter()
                .any(|kind| l.starts_with(&format!("coffer_reconciles_total{{kind=\"{kind}\"")))
        })
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum()
}
