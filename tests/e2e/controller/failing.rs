//! A failing object says so once its failure has lasted the grace, however
//! many tries that took, with the reason and that coffer keeps retrying;
//! and it says so once, not at every try.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use coffer::api::BackupVault;
use coffer::emulator::FaultConfig;
use serde_json::json;

use super::quiet::count_writes;
use super::{Running, condition, is_ready};

/// The failure grace these tests run with.
const GRACE: Duration = Duration::from_secs(2);

#[tokio::test]
async fn a_vault_failing_past_the_grace_shows_why_once_and_then_recovers() {
    let run = Running::start_with("bv-failing", |s| s.failure_grace = GRACE).await;
    run.emulator
        .set_faults(FaultConfig {
            error_rates: BTreeMap::from([(503, 1.0)]),
            ..FaultConfig::default()
        })
        .expect("faults");
    let writes = count_writes(run.api::<BackupVault>()).await;
    let started = Instant::now();
    run.create_vault("down", json!({})).await;
    let shown = run
        .vault_when("down", "Synced=False ProviderUnavailable", |bv| {
            condition(bv, "Synced")
                .is_some_and(|(s, r, _)| s == "False" && r == "ProviderUnavailable")
        })
        .await;
    let took = started.elapsed();
    // Twelve tries in a row took about nine seconds at the tests' backoff.
    assert!(
        took < GRACE + Duration::from_secs(4),
        "shown {took:?} after the create, for a grace of {GRACE:?}"
    );
    let (_, _, message) = condition(&shown, "Synced").expect("Synced");
    assert!(message.contains("coffer keeps retrying"), "{message}");
    let ready = condition(&shown, "Ready").expect("a Ready condition, not a blank");
    assert_eq!(
        (ready.0.as_str(), ready.1.as_str()),
        ("False", "ProviderUnavailable")
    );

    // Tries go on (the backoff's ceiling is a second here); the status does not move.
    let before = writes.now();
    // The test's create, the finalizer and the status that shows the failure.
    assert!(before >= 3, "only {before} writes counted");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        writes.stop().await,
        before,
        "the same failure was written again"
    );

    run.emulator
        .set_faults(FaultConfig::default())
        .expect("no faults");
    run.vault_when("down", "Ready once the provider answers", is_ready)
        .await;
}
