//! A ProviderConfig's rate budget, end to end: every call of every object
//! using it waits its turn, and all still converge.

use std::time::Duration;

use coffer::api::ProviderConfig;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::{Running, is_ready};

/// How many objects share the budget.
const VAULTS: usize = 100;

#[tokio::test]
async fn a_hundred_vaults_never_exceed_the_budget_and_all_converge() {
    // A long resync, so the drift checks of Ready vaults do not compete with
    // the creates for the budget while the test watches.
    let run = Running::start_with("pc-budget", |s| {
        s.resync_interval = Duration::from_secs(600);
    })
    .await;
    run.api::<ProviderConfig>()
        .patch(
            "cloud",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"rateLimit": {"qps": 5, "burst": 5, "maxInFlight": 4}}})),
        )
        .await
        .expect("setting the rate limit");
    // Objects created from here on see the limited ProviderConfig.
    let configs = run.api::<ProviderConfig>();
    super::eventually("the ProviderConfig's new generation checked", || async {
        let pc = configs.get("cloud").await.ok()?;
        let seen = pc.status.as_ref()?.observed_generation;
        (seen.is_some() && seen == pc.metadata.generation).then_some(())
    })
    .await;
    let names: Vec<String> = (0..VAULTS).map(|i| format!("v-{i:03}")).collect();
    for name in &names {
        run.create_vault(name, json!({})).await;
    }
    for name in &names {
        run.vault_when(name, &format!("{name} Ready behind the budget"), is_ready)
            .await;
    }

    let starts: Vec<i64> = run
        .emulator
        .requests(None)
        .iter()
        .map(|r| r.received_at.as_millisecond())
        .collect();
    // At least a create per vault (a new vault needs no search first).
    assert!(
        starts.len() > VAULTS,
        "only {} calls were made for {VAULTS} vaults",
        starts.len()
    );
    let busiest = busiest_second(&starts);
    // qps 5 and burst 5: at most 5 + 5 calls start in any one second.
    assert!(busiest <= 10, "{busiest} calls started within one second");
    assert!(
        run.metrics.budgets.waits(&format!("{}/cloud", run.ns)) > 0,
        "no call waited, so the budget was never the limit"
    );
}

/// The most calls that started within any window of one second.
fn busiest_second(starts: &[i64]) -> usize {
    let mut sorted = starts.to_vec();
    sorted.sort_unstable();
    let mut best = 0;
    let mut first = 0;
    for last in 0..sorted.len() {
        while sorted[last] - sorted[first] >= 1000 {
            first += 1;
        }
        best = best.max(last - first + 1);
    }
    best
}
