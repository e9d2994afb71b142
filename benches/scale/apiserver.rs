//! The API server's own count of the writes it served, from its
//! `apiserver_request_total` metric: what coffer (and the bench) cost the
//! cluster, by resource, whatever client made them; and how long a plain
//! client takes to list the bench's objects.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use coffer::api::{Agency, BackupVault};
use kube::Client;
use kube::api::{Api, ListParams};

/// Verbs that change something.
const WRITES: [&str; 5] = ["POST", "PUT", "PATCH", "APPLY", "DELETE"];

/// Write requests served so far, by `resource` or `resource/subresource`.
pub async fn writes(client: &kube::Client) -> BTreeMap<String, u64> {
    try_writes(client)
        .await
        .expect("reading the API server's metrics")
}

/// Like [`writes`], for a sampler that may outlive the API server.
pub async fn try_writes(client: &kube::Client) -> Result<BTreeMap<String, u64>, kube::Error> {
    let request = http::Request::get("/metrics")
        .body(Vec::new())
        .expect("a GET request");
    Ok(parse(&client.request_text(request).await?))
}

/// Sums `apiserver_request_total` over write verbs, by resource.
fn parse(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
    {
        let Some((labels, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let label = |name: &str| {
            let start = labels.find(&format!("{name}=\""))? + name.len() + 2;
            let end = labels[start..].find('"')? + start;
            Some(&labels[start..end])
        };
        if !label("verb").is_some_and(|v| WRITES.contains(&v)) {
            continue;
        }
        let resource = match (label("resource"), label("subresource")) {
            (Some(r), Some(s)) if !s.is_empty() => format!("{r}/{s}"),
            (Some(r), _) => r.to_string(),
            _ => continue,
        };
        let count = value.parse::<f64>().unwrap_or(0.0) as u64;
        *out.entry(resource).or_insert(0) += count;
    }
    out
}

/// What coffer writes: its kinds (and their status) and Events. Leases
/// are left out: a leader renews its Lease whatever it manages.
const COFFER_RESOURCES: [&str; 5] = [
    "backupvaults",
    "agencies",
    "backupshares",
    "providerconfigs",
    "events",
];

/// Writes to coffer's resources in one reading.
pub fn coffer_writes(writes: &BTreeMap<String, u64>) -> u64 {
    writes
        .iter()
        .filter(|(resource, _)| COFFER_RESOURCES.iter().any(|r| resource.starts_with(r)))
        .map(|(_, n)| n)
        .sum()
}

/// What was written between two readings, for the resources coffer writes.
pub fn delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .filter(|(resource, _)| COFFER_RESOURCES.iter().any(|r| resource.starts_with(r)))
        .map(|(resource, n)| {
            (
                resource.clone(),
                n - before.get(resource).copied().unwrap_or(0),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// How long a plain client takes to list every object of the bench, in
/// pages of 500 as kube's watcher lists: what a restart must at least do.
pub async fn plain_list(client: &Client, namespace: &str) -> Duration {
    let started = Instant::now();
    let listed = list_all(Api::<BackupVault>::namespaced(client.clone(), namespace)).await
        + list_all(Api::<Agency>::namespaced(client.clone(), namespace)).await;
    let took = started.elapsed();
    println!("scale: a plain client listed {listed} objects in {took:?}");
    took
}

async fn list_all<K>(api: Api<K>) -> usize
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut listed = 0;
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api.list(&params).await.expect("listing the objects");
        listed += page.items.len();
        match page.metadata.continue_ {
            Some(next) if !next.is_empty() => params = params.continue_token(&next),
            _ => return listed,
        }
    }
}
