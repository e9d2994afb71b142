use super::super::plan::{InFlight, plan};
use super::*;
use crate::controller::backup_vault::fixtures::{UID, spec, vault};

#[test]
fn a_matching_vault_has_no_drift() {
    assert!(
        plan(&spec(), UID, &vault("v1"), &InFlight::default())
            .drift
            .is_empty()
    );
}

#[test]
fn each_changed_field_is_one_update_entry_with_both_values() {
    let mut want = spec();
    want.threshold = Some(70);
    want.billing.size = 200;
    let mut have = vault("v1");
    have.threshold = 30;
    let drift = plan(&want, UID, &have, &InFlight::default()).drift;
    assert_eq!(
        drift,
        vec![
            update("billing.size", "200", "100"),
            update("threshold", "70", "30"),
        ]
    );
}

#[test]
fn a_blocked_field_says_why() {
    let mut want = spec();
    want.locked = Some(false);
    let mut have = vault("v1");
    have.locked = true;
    let drift = plan(&want, UID, &have, &InFlight::default()).drift;
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].field, "huaweiCloud.locked");
    assert_eq!(drift[0].action, DriftAction::Blocked);
    assert!(
        drift[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("cannot unlock"))
    );
}

#[test]
fn an_auto_expanded_vault_is_drift_left_alone() {
    let mut want = spec();
    want.auto_expand = Some(true);
    let mut have = vault("v1");
    have.auto_expand = true;
    have.size_gb = 400;
    let drift = plan(&want, UID, &have, &InFlight::default()).drift;
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].action, DriftAction::None);
}
