//! Agency drift checks that cost the same at 30 agencies as at one: the
//! agencies and their grants come from one listing of the account per
//! provider session (`ListAgencies` and `ShowDomainRoleAssignments`), not
//! from three grant reads per agency; and a grant revoked behind coffer's
//! back is still restored, after a read of that agency by id.

use std::time::{Duration, Instant};

use coffer::api::Agency;
use coffer::emulator::{Operation, RecordedRequest};
use coffer::provider::huawei::iam::{Grant, GrantScope, IamAgencyApi};
use kube::api::ListParams;
use serde_json::json;

use super::Running;
use super::agency::{create_agency, external_id, iam, is_ready, start_with};

const AGENCIES: usize = 30;
/// Long enough that every agency is checked a few times between listings.
const RESYNC: Duration = Duration::from_secs(8);
/// A listing answers for a quarter interval, and the agency's own check
/// comes within an interval (see the engine's `LISTINGS_PER_INTERVAL`).
const FOUND_WITHIN: Duration = Duration::from_secs(10);
/// A reconcile's own time.
const SLACK: Duration = Duration::from_secs(5);

/// A read of one agency's grants on one scope.
fn per_agency_grant_read(op: Operation) -> bool {
    matches!(
        op,
        Operation::ListProjectPermissionsForAgency
            | Operation::ListDomainPermissionsForAgency
            | Operation::ListAllProjectsPermissionsForAgency
    )
}

fn requests_after(run: &Running, seq: u64) -> Vec<RecordedRequest> {
    run.emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > seq)
        .collect()
}

async fn ready_ids(run: &Running) -> Vec<String> {
    let list = run
        .api::<Agency>()
        .list(&ListParams::default())
        .await
        .expect("listing Agencies");
    list.items
        .iter()
        .filter(|a| is_ready(a) && a.status.as_ref().is_some_and(|s| s.plan.is_empty()))
        .map(external_id)
        .collect()
}

#[tokio::test]
async fn agency_grant_checks_read_one_listing_per_interval_whatever_the_number_of_agencies_and_a_revoked_grant_comes_back()
 {
    let run = start_with("ag-listing", |s| s.resync_interval = RESYNC).await;
    for i in 0..AGENCIES {
        create_agency(&run, &format!("ag-{i:02}"), json!({})).await;
    }
    let started = Instant::now();
    let ids = loop {
        let ids = ready_ids(&run).await;
        if ids.len() == AGENCIES {
            break ids;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "{}/{AGENCIES} Agencies Ready",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // Every agency's first checks after its create read by id (its
    // writes are newer than any listing); wait them out.
    tokio::time::sleep(RESYNC * 2).await;

    // Steady state over two intervals: no agency's grants read on their
    // own, and a bounded number of listings, whatever AGENCIES is.
    let intervals = 2;
    let before = run.last_seq();
    tokio::time::sleep(RESYNC * intervals).await;
    let steady = requests_after(&run, before);
    let per_agency = steady
        .iter()
        .filter(|r| per_agency_grant_read(r.operation))
        .count();
    let listings = steady
        .iter()
        .filter(|r| r.operation == Operation::ShowDomainRoleAssignments)
        .count();
    println!(
        "{AGENCIES} agencies, {intervals} intervals: {per_agency} per-agency grant reads, {listings} role-assignment lists"
    );
    assert_eq!(
        per_agency, 0,
        "grants read per agency in steady state ({per_agency} in {intervals} intervals for {AGENCIES} agencies)"
    );
    // Up to four listings an interval, one more for the interval the
    // window cuts, each of two lists (the inherited grants, the rest) of
    // one page: 30 grants fit a page of 50.
    let bound = 2 * (4 * intervals as usize + 1);
    assert!(
        (1..=bound).contains(&listings),
        "{listings} role-assignment lists in {intervals} intervals (1 to {bound})"
    );
    assert_eq!(run.writes_after(before), vec![], "a write in steady state");

    // A grant revoked behind coffer's back comes back, decided on a read
    // of that agency's grants by id.
    let id = &ids[7];
    let project = run.emulator.config().project_id.clone();
    let scope = GrantScope::Project(project);
    let client = iam(&run);
    let role_id = client.list_grants(id, &scope).await.expect("grants")[0].clone();
    let revoked_at = run.last_seq();
    client
        .revoke(id, &Grant { scope, role_id })
        .await
        .expect("revoked by hand");
    let revoked = Instant::now();
    let regranted = loop {
        let after = requests_after(&run, revoked_at);
        let grant = after.iter().position(|r| {
            r.operation == Operation::AssociateAgencyWithProjectPermission
                && r.path.contains(id.as_str())
                && r.status < 300
        });
        if let Some(at) = grant {
            break after[..=at].to_vec();
        }
        assert!(
            revoked.elapsed() < FOUND_WITHIN + SLACK,
            "the revoked grant is still missing after {:?}",
            revoked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!("revoked grant restored in {:?}", revoked.elapsed());
    assert!(
        regranted.iter().any(
            |r| r.operation == Operation::ListProjectPermissionsForAgency
                && r.path.contains(id.as_str())
        ),
        "the grant was restored without reading the agency's grants by id: {regranted:#?}"
    );
}
