use super::super::plan::{InFlight, plan};
use super::*;
use crate::api::backup_vault::{HuaweiBindRules, HuaweiResource, HuaweiTag};
use crate::controller::backup_vault::fixtures::{UID, resource, spec, vault};

fn drift_of(want: &HuaweiVault, have: &Vault) -> Vec<Drift> {
    plan(want, UID, have, &InFlight::default()).drift
}

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

#[test]
fn a_tag_overwritten_shows_its_old_value_and_a_new_one_shows_absent() {
    let mut want = spec();
    want.tags = Some(vec![
        HuaweiTag {
            key: "env".into(),
            value: "prod".into(),
        },
        HuaweiTag {
            key: "team".into(),
            value: "a".into(),
        },
    ]);
    let mut have = vault("v1");
    have.tags.push(Tag::new("env", "dev"));
    have.tags.push(Tag::new("stale", "x"));
    assert_eq!(
        drift_of(&want, &have),
        vec![
            update("tags[env]", "prod", "dev"),
            update("tags[team]", "a", ABSENT),
            update("tags[stale]", ABSENT, "x"),
        ]
    );
}

#[test]
fn bind_rules_drift_lists_the_tags_as_key_value_pairs() {
    let mut want = spec();
    want.bind_rules = Some(HuaweiBindRules {
        tags: vec![
            HuaweiTag {
                key: "b".into(),
                value: "2".into(),
            },
            HuaweiTag {
                key: "a".into(),
                value: "1".into(),
            },
        ],
    });
    let mut have = vault("v1");
    have.bind_rules = vec![Tag::new("a", "0")];
    assert_eq!(
        drift_of(&want, &have),
        vec![update("bindRules.tags", "a=1,b=2", "a=0")]
    );
}

#[test]
fn resources_added_and_removed_are_one_entry_each() {
    let mut want = spec();
    want.resources = Some(vec![HuaweiResource {
        id: "srv-new".into(),
        type_: "OS::Nova::Server".into(),
        exclude_volumes: vec![],
    }]);
    let mut have = vault("v1");
    have.resources = vec![resource("srv-old")];
    assert_eq!(
        drift_of(&want, &have),
        vec![
            update("resources[srv-old]", ABSENT, "associated"),
            update("resources[srv-new]", "associated", ABSENT),
        ]
    );
}

#[test]
fn an_immutable_field_is_blocked_drift_with_both_values_and_the_reason() {
    let mut want = spec();
    want.description = Some("nightly".into());
    let drift = drift_of(&want, &vault("v1"));
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0].field, "huaweiCloud.description");
    assert_eq!(drift[0].desired, "nightly");
    assert_eq!(drift[0].observed, "");
    assert_eq!(drift[0].action, DriftAction::Blocked);
    assert!(
        drift[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("CBR cannot change it"))
    );
}

#[test]
fn changed_excluded_volumes_are_blocked_drift_on_that_resource() {
    let mut want = spec();
    want.resources = Some(vec![HuaweiResource {
        id: "srv-1".into(),
        type_: "OS::Nova::Server".into(),
        exclude_volumes: vec!["vol-b".into(), "vol-a".into()],
    }]);
    let mut have = vault("v1");
    have.resources = vec![resource("srv-1")];
    let drift = drift_of(&want, &have);
    assert_eq!(drift.len(), 1);
    assert_eq!(
        drift[0].field,
        "huaweiCloud.resources[srv-1].excludeVolumes"
    );
    assert_eq!(drift[0].desired, "vol-a,vol-b");
    assert_eq!(drift[0].observed, "");
    assert_eq!(drift[0].action, DriftAction::Blocked);
}

#[test]
fn a_shrink_without_auto_expand_is_one_update_entry() {
    let mut want = spec();
    want.billing.size = 50;
    assert_eq!(
        drift_of(&want, &vault("v1")),
        vec![Drift {
            field: "huaweiCloud.billing.size".into(),
            desired: "50".into(),
            observed: "100".into(),
            action: DriftAction::Update,
            reason: None,
        }]
    );
}

#[test]
fn an_auto_expanding_vault_at_exactly_the_spec_size_has_no_drift() {
    let mut want = spec();
    want.auto_expand = Some(true);
    let mut have = vault("v1");
    have.auto_expand = true;
    assert!(drift_of(&want, &have).is_empty());
}
