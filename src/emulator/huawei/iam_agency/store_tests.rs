//! The agency store's rules, from plain values.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::json;

use super::catalog::TrustDomain;
use super::error::AgencyError;
use super::store::{AgencyStore, GrantScope, StoredDuration, read_view, written_view};

fn trust() -> TrustDomain {
    TrustDomain {
        id: "3ebe1024db46485cb02ef08d3c348477".to_string(),
        name: "central-ops".to_string(),
    }
}

fn create(store: &mut AgencyStore, name: &str, duration: StoredDuration) -> String {
    let now = (Instant::now(), Timestamp::now());
    store
        .create(name.to_string(), trust(), String::new(), duration, now)
        .expect("created")
        .id
        .clone()
}

#[test]
fn names_are_unique() {
    let mut store = AgencyStore::new(Duration::ZERO);
    create(&mut store, "a", StoredDuration::Unset);
    let again = store.create(
        "a".to_string(),
        trust(),
        String::new(),
        StoredDuration::Unset,
        (Instant::now(), Timestamp::now()),
    );
    assert!(matches!(again, Err(AgencyError::Duplicate(_))));
}

#[test]
fn duration_is_read_in_days_and_answered_in_hours() {
    for (given, answered) in [
        (json!(20), json!("480")),
        (json!("20"), json!("480")),
        (json!("ONEDAY"), json!("24")),
        (json!("FOREVER"), json!("FOREVER")),
        (json!(null), json!(null)),
    ] {
        let duration = StoredDuration::parse(Some(&given)).expect("valid");
        assert_eq!(duration.answer(), answered, "for {given}");
    }
    assert!(StoredDuration::parse(Some(&json!(0))).is_err());
    assert!(StoredDuration::parse(Some(&json!("forever"))).is_err());
}

#[test]
fn a_new_agency_is_missing_from_get_during_the_read_delay() {
    let mut store = AgencyStore::new(Duration::from_secs(5));
    let id = create(&mut store, "a", StoredDuration::Days(1));
    assert!(store.show(&id, Instant::now()).is_err());
    assert!(
        store
            .show(&id, Instant::now() + Duration::from_secs(6))
            .is_ok()
    );
    assert!(store.get(&id).is_ok(), "writes see it at once");
}

#[test]
fn grants_are_a_set_and_go_with_the_agency() {
    let mut store = AgencyStore::new(Duration::ZERO);
    let id = create(&mut store, "a", StoredDuration::Unset);
    let scope = GrantScope::Project("p".to_string());
    store.grant(&id, scope.clone(), "r").expect("granted");
    store.grant(&id, scope.clone(), "r").expect("granted twice");
    assert_eq!(store.grants_on(&id, &scope).expect("listed"), ["r"]);
    assert_eq!(
        store.has_grant(&id, &GrantScope::Domain("p".into()), "r"),
        Ok(false)
    );
    store.revoke(&id, scope.clone(), "r").expect("revoked");
    assert_eq!(
        store.revoke(&id, scope.clone(), "r"),
        Err(AgencyError::GrantNotFound)
    );
    store.grant(&id, scope, "r").expect("granted");
    store.delete(&id).expect("deleted");
    let again = create(&mut store, "a", StoredDuration::Unset);
    assert!(
        store
            .grants_on(&again, &GrantScope::Project("p".into()))
            .expect("listed")
            .is_empty()
    );
}

#[test]
fn only_reads_carry_the_trust_name_and_urn() {
    let mut store = AgencyStore::new(Duration::ZERO);
    let id = create(&mut store, "a", StoredDuration::Days(20));
    let record = store.get(&id).expect("exists");
    let written = written_view(record, "d");
    assert!(written.get("trust_domain_name").is_none());
    assert!(written["expire_time"].is_string());
    let read = read_view(record, "d");
    assert_eq!(read["trust_domain_name"], "central-ops");
    assert_eq!(read["agency_urn"], "iam::d:agency:a");
}

#[test]
fn an_update_or_delete_voids_the_tokens_bound_to_the_old_epoch() {
    let mut store = AgencyStore::new(Duration::ZERO);
    let id = create(&mut store, "a", StoredDuration::Unset);
    let issued_under = store.get(&id).expect("present").tokens_valid_from;
    assert!(store.token_still_valid(&id, issued_under));
    // Even an update stamped with the same instant moves the epoch.
    store
        .update(&id, super::store::AgencyChange::default(), issued_under)
        .expect("updated");
    assert!(!store.token_still_valid(&id, issued_under));
    let current = store.get(&id).expect("present").tokens_valid_from;
    assert!(store.token_still_valid(&id, current));
    store.delete(&id).expect("deleted");
    assert!(!store.token_still_valid(&id, current));
}
