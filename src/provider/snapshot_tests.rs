use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

const AGE: Duration = Duration::from_secs(60);

fn listing(items: &[(&str, u32)]) -> Packed<u32> {
    items.iter().map(|(id, v)| (id.to_string(), *v)).collect()
}

async fn lookup(
    snapshot: &Snapshot<u32>,
    id: &str,
    age: Duration,
    lists: &AtomicUsize,
    items: &[(&str, u32)],
) -> Listed<u32> {
    let items = listing(items);
    snapshot
        .lookup(id, age, || async {
            lists.fetch_add(1, Ordering::SeqCst);
            Ok(items)
        })
        .await
        .expect("listed")
}

#[tokio::test]
async fn one_list_answers_every_id_until_it_is_max_age_old() {
    let snapshot = Snapshot::default();
    let lists = AtomicUsize::new(0);
    let items = [("a", 1), ("b", 2)];
    assert_eq!(
        lookup(&snapshot, "a", AGE, &lists, &items).await,
        Listed::Found(1)
    );
    assert_eq!(
        lookup(&snapshot, "b", AGE, &lists, &items).await,
        Listed::Found(2)
    );
    assert_eq!(
        lookup(&snapshot, "c", AGE, &lists, &items).await,
        Listed::Absent
    );
    assert_eq!(lists.load(Ordering::SeqCst), 1);
    // Older than a caller's max age: listed again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let short = Duration::from_millis(10);
    assert_eq!(
        lookup(&snapshot, "a", short, &lists, &[("a", 7)]).await,
        Listed::Found(7)
    );
    assert_eq!(lists.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_written_id_is_not_answered_until_a_later_listing() {
    let snapshot = Snapshot::default();
    let lists = AtomicUsize::new(0);
    lookup(&snapshot, "a", AGE, &lists, &[("a", 1)]).await;
    snapshot.written("a");
    assert_eq!(
        lookup(&snapshot, "a", AGE, &lists, &[("a", 1)]).await,
        Listed::Unknown
    );
    assert_eq!(
        lookup(&snapshot, "b", AGE, &lists, &[("b", 1)]).await,
        Listed::Absent,
        "another id is still answered"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let short = Duration::from_millis(10);
    assert_eq!(
        lookup(&snapshot, "a", short, &lists, &[("a", 2)]).await,
        Listed::Found(2),
        "a listing after the write answers again"
    );
}

#[tokio::test]
async fn checks_at_the_same_moment_share_one_list() {
    let snapshot = Arc::new(Snapshot::default());
    let lists = Arc::new(AtomicUsize::new(0));
    let checks = (0..20).map(|i| {
        let (snapshot, lists) = (snapshot.clone(), lists.clone());
        tokio::spawn(async move {
            snapshot
                .lookup(&format!("v{i}"), AGE, || async move {
                    lists.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok((0..20).map(|i| (format!("v{i}"), i)).collect())
                })
                .await
        })
    });
    for (i, check) in checks.enumerate() {
        let found = check.await.expect("joined").expect("listed");
        assert_eq!(found, Listed::Found(i as u32));
    }
    assert_eq!(lists.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_zero_max_age_lists_now_and_answers_from_that_listing() {
    let snapshot = Snapshot::default();
    let lists = AtomicUsize::new(0);
    lookup(&snapshot, "a", AGE, &lists, &[("a", 1)]).await;
    assert_eq!(
        lookup(&snapshot, "a", Duration::ZERO, &lists, &[("a", 2)]).await,
        Listed::Found(2)
    );
    assert_eq!(lists.load(Ordering::SeqCst), 2);
    assert_eq!(
        lookup(&snapshot, "a", AGE, &lists, &[("a", 3)]).await,
        Listed::Found(2),
        "the listing made now answers the next check"
    );
}

#[tokio::test]
async fn a_failed_list_is_the_callers_error_and_keeps_nothing() {
    let snapshot: Snapshot<u32> = Snapshot::default();
    let err = snapshot
        .lookup("a", AGE, || async {
            Err(ProviderError::Transient {
                message: "down".into(),
            })
        })
        .await
        .expect_err("fails");
    assert!(err.is_retryable());
    let lists = AtomicUsize::new(0);
    lookup(&snapshot, "a", AGE, &lists, &[("a", 1)]).await;
    assert_eq!(lists.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_list_past_its_cap_leaves_each_id_to_a_read_until_max_age_passes() {
    let snapshot: Snapshot<u32> = Snapshot::default();
    let refusals = AtomicUsize::new(0);
    let too_large = || async {
        refusals.fetch_add(1, Ordering::SeqCst);
        Err(ProviderError::ListTooLarge {
            what: "vaults".into(),
            cap: "10 items".into(),
        })
    };
    for id in ["a", "b", "c"] {
        let answer = snapshot.lookup(id, AGE, too_large).await;
        assert_eq!(answer.expect("not an error"), Listed::Unknown);
    }
    assert_eq!(refusals.load(Ordering::SeqCst), 1, "one try per max_age");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let short = Duration::from_millis(10);
    let lists = AtomicUsize::new(0);
    assert_eq!(
        lookup(&snapshot, "a", short, &lists, &[("a", 1)]).await,
        Listed::Found(1),
        "tried again once max_age passed"
    );
}

/// Every type a listing keeps, with every field set, comes back from
/// its packed bytes as it went in: a field the packing skipped or
/// misread would be drift that is not there.
#[test]
fn every_listed_type_unpacks_as_it_was_listed() {
    use crate::provider::commvault::S3Vault;
    use crate::provider::huawei::cbr::{ObservedVaultResource, Tag, Vault};
    use crate::provider::huawei::iam::{Agency, Grant, GrantScope, ListedAgency, Validity};

    /// `item`, packed under an id, unpacks equal to itself.
    fn round_trip<T>(item: T)
    where
        T: Serialize + DeserializeOwned + PartialEq + Clone + std::fmt::Debug,
    {
        let packed: Packed<T> = std::iter::once(("id".to_string(), item.clone())).collect();
        assert_eq!(packed.get("id"), Some(Some(item)));
    }
    let some = |s: &str| Some(s.to_string());
    let vault = Vault {
        id: "v-1".into(),
        name: "vault".into(),
        description: some("d"),
        status: "available".into(),
        consistent_level: "crash_consistent".into(),
        object_type: "server".into(),
        protect_type: "backup".into(),
        cloud_type: some("public"),
        is_multi_az: true,
        size_gb: 100,
        allocated_gb: Some(3),
        used_mb: Some(-1),
        spec_code: some("vault.backup.server.normal"),
        created_at: some("2026-12-07T20:51:32.762Z"),
        auto_bind: true,
        bind_rules: vec![Tag::new("k", "v")],
        auto_expand: true,
        smn_notify: false,
        threshold: 80,
        locked: true,
        tags: vec![Tag::new("team", "bench"), Tag::new("a", "")],
        resources: vec![ObservedVaultResource {
            id: "s-1".into(),
            type_: "OS::Nova::Server".into(),
            exclude_volumes: vec!["d-1".into()],
            protect_status: some("available"),
        }],
        enterprise_project_id: some("0"),
    };
    round_trip(vault);
    let agency = Agency {
        id: "a-1".into(),
        name: "agency".into(),
        trust_domain_id: "d-1".into(),
        trust_domain_name: some("central-ops"),
        description: "x".into(),
        validity: Some(Validity::Days(1)),
        expire_time: some("2026-12-08T00:00:00Z"),
        create_time: some("2026-12-07T00:00:00Z"),
        urn: some("iam::d-1:agency:agency"),
    };
    let grants = [
        GrantScope::Project("p".into()),
        GrantScope::Domain,
        GrantScope::AllProjects,
    ]
    .into_iter()
    .map(|scope| Grant {
        scope,
        role_id: "r".into(),
    })
    .collect();
    let listed = ListedAgency {
        agency: agency.clone(),
        grants: Some(grants),
    };
    round_trip(listed);
    let forever = Agency {
        validity: Some(Validity::Forever),
        ..agency
    };
    round_trip(ListedAgency {
        agency: forever,
        grants: None,
    });
    let s3 = S3Vault {
        client_id: 7,
        name: "s3".into(),
        plan_name: some("plan"),
    };
    round_trip(s3);
}
