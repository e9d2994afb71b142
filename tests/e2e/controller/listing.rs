//! Drift checks that fit a provider's rate limit: one paginated list per
//! provider session answers the checks of every object (see
//! `coffer::provider::snapshot`), against an emulator that throttles each
//! API at 10 calls a second, as Huawei's gateway does.

use std::time::{Duration, Instant};

use coffer::api::BackupVault;
use coffer::emulator::{FaultConfig, Operation, RecordedRequest, ThrottleConfig};
use coffer::provider::huawei::cbr::{CbrVaultApi, VaultUpdate};
use kube::api::ListParams;
use serde_json::json;

use super::commvault_vault;
use super::{Running, is_ready};

/// Huawei's gateway: about 10 calls a second per user and API.
const THROTTLE: ThrottleConfig = ThrottleConfig {
    rate: 10.0,
    burst: 10,
};
const VAULTS: usize = 2000;
/// Short enough for the test to watch several intervals.
const RESYNC: Duration = Duration::from_secs(20);
/// Up to a listing's age (a quarter interval) before the change shows, and
/// up to an interval before the vault's own check.
const FOUND_WITHIN: Duration = Duration::from_secs(25);
/// A reconcile's own time, and the sweep's second.
const SLACK: Duration = Duration::from_secs(5);

/// The reads (shows and lists) among `requests`, but the ProviderConfig's
/// one-item credential check.
fn vault_reads(requests: &[RecordedRequest]) -> usize {
    requests
        .iter()
        .filter(|r| match r.operation {
            Operation::ShowVault => true,
            Operation::ListVaults => r.query.get("limit").map(String::as_str) != Some("1"),
            _ => false,
        })
        .count()
}

/// Vault `id`'s size as the emulator's store holds it, without an API call.
fn size_of(run: &Running, id: &str) -> Option<u64> {
    let store = run.emulator.vaults();
    let vault = store["vaults"]
        .as_array()?
        .iter()
        .find(|v| v["id"].as_str() == Some(id))?
        .clone();
    vault["billing"]["size"].as_u64()
}

async fn ready_count(run: &Running) -> usize {
    let list = run
        .api::<BackupVault>()
        .list(&ListParams::default())
        .await
        .expect("listing BackupVaults");
    list.items.iter().filter(|bv| is_ready(bv)).count()
}

#[tokio::test]
async fn two_thousand_vaults_under_a_ten_a_second_throttle_converge_see_no_429_and_drift_is_undone_after_a_read_by_id()
 {
    let run = Running::start_with("listing", |s| s.resync_interval = RESYNC).await;
    run.emulator
        .set_faults(FaultConfig {
            throttle: Some(THROTTLE),
            ..FaultConfig::default()
        })
        .expect("throttle");
    // No rateLimit on the ProviderConfig: what keeps steady state under
    // the gateway's limit is how the checks read, not a budget (which
    // would hide a read per vault by making the checks wait their turn).

    // 2,000 vaults converge: 2,000 creates at 10 a second, the rest
    // answered 429 and retried.
    let started = Instant::now();
    for i in 0..VAULTS {
        run.create_vault(&format!("v-{i:04}"), json!({})).await;
    }
    let patience = Duration::from_secs(900);
    loop {
        let ready = ready_count(&run).await;
        if ready == VAULTS {
            break;
        }
        assert!(
            started.elapsed() < patience,
            "{ready}/{VAULTS} vaults Ready after {patience:?}"
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    println!("{VAULTS} vaults Ready in {:?}", started.elapsed());

    // Steady state: over three intervals, no answer the gateway throttled,
    // and the checks read listings, not each vault.
    let before = run.last_seq();
    tokio::time::sleep(RESYNC * 3).await;
    let steady: Vec<RecordedRequest> = run
        .emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > before)
        .collect();
    let throttled: Vec<&RecordedRequest> = steady.iter().filter(|r| r.status == 429).collect();
    assert!(
        throttled.is_empty(),
        "{} answers of 429 in steady state, the first: {:?}",
        throttled.len(),
        throttled.first()
    );
    let per_vault = vault_reads(&steady) as f64 / VAULTS as f64 / 3.0;
    assert!(
        per_vault <= 0.05,
        "{per_vault:.3} reads per vault per interval ({} reads in three intervals)",
        vault_reads(&steady)
    );
    assert_eq!(run.writes_after(before), vec![], "a write in steady state");

    // Changed behind coffer's back: found and undone within an interval
    // and a quarter.
    let id = run
        .api::<BackupVault>()
        .get("v-1234")
        .await
        .expect("vault")
        .status
        .and_then(|s| s.external_id)
        .expect("an external id");
    run.cbr
        .update(
            &id,
            &VaultUpdate {
                size_gb: Some(300),
                ..VaultUpdate::default()
            },
        )
        .await
        .expect("out-of-band update");
    let changed = Instant::now();
    let changed_at = run.last_seq();
    loop {
        // From the emulator's own store: a ShowVault of the test's would
        // pass for coffer's read by id below.
        if size_of(&run, &id) == Some(100) {
            break;
        }
        assert!(
            changed.elapsed() < FOUND_WITHIN + SLACK,
            "the out-of-band size is still there after {:?}",
            changed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!("drift undone in {:?}", changed.elapsed());
    // Found in a listing, but undone on a read of the vault itself.
    let after: Vec<RecordedRequest> = run
        .emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > changed_at)
        .collect();
    let update = after
        .iter()
        .position(|r| r.operation == Operation::UpdateVault && r.path.ends_with(&id))
        .expect("the update that undid the change");
    assert!(
        after[..update]
            .iter()
            .any(|r| r.operation == Operation::ShowVault && r.path.ends_with(&id)),
        "the update was decided without reading the vault by id: {:#?}",
        &after[..=update]
    );
}

/// Vaults enough that one list per check would be many times the bound.
const S3_VAULTS: usize = 24;
const S3_RESYNC: Duration = Duration::from_secs(4);

#[tokio::test]
async fn commvault_checks_list_the_s3_vaults_a_fixed_number_of_times_per_interval() {
    let run = Running::start_bare_with("listing-cv", |s| s.resync_interval = S3_RESYNC).await;
    run.emulator
        .set_commvault_settings(coffer::emulator::CommvaultSettings {
            job_duration: Duration::from_millis(500),
            ..run.emulator.commvault_settings()
        });
    commvault_vault::create_provider_config(&run).await;
    let names: Vec<String> = (0..S3_VAULTS).map(|i| format!("s3-{i:02}")).collect();
    for name in &names {
        commvault_vault::create(&run, name).await;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while ready_count(&run).await < S3_VAULTS {
        assert!(
            Instant::now() < deadline,
            "the S3 vaults did not all converge"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let before = run.last_seq();
    let intervals = 3;
    tokio::time::sleep(S3_RESYNC * intervals).await;
    let lists = run
        .emulator
        .requests(Some(Operation::ListS3Vaults))
        .into_iter()
        .filter(|r| r.seq > before)
        .count();
    // Four listings an interval at most, one more for the interval the
    // window cuts, and the ProviderConfig's check: none of it per vault.
    let bound = 4 * intervals as usize + 2;
    assert!(
        lists <= bound,
        "{lists} lists of the S3 vaults in {intervals} intervals for {S3_VAULTS} vaults (at most {bound})"
    );
}
