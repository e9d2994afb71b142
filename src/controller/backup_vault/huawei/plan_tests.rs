use super::*;
use crate::api::backup_vault::{CloudType, HuaweiBindRules, HuaweiTag, ObjectType};
use crate::controller::backup_vault::fixtures::{UID, resource, spec, vault};

fn tag(key: &str, value: &str) -> HuaweiTag {
    HuaweiTag {
        key: key.into(),
        value: value.into(),
    }
}

fn server(id: &str) -> HuaweiResource {
    HuaweiResource {
        id: id.into(),
        type_: "OS::Nova::Server".into(),
        exclude_volumes: vec![],
    }
}

fn updates(plan: &Plan) -> Vec<&VaultUpdate> {
    plan.calls
        .iter()
        .filter_map(|c| match c {
            Call::Update(u) => Some(u),
            _ => None,
        })
        .collect()
}

#[test]
fn no_change_plans_nothing() {
    let plan = plan(&spec(), UID, &vault("v1"), &InFlight::default());
    assert_eq!(plan, Plan::default());
    assert_eq!(plan.to_string(), "no changes");
}

#[test]
fn update_sends_only_changed_fields() {
    let mut want = spec();
    want.billing.size = 200;
    want.threshold = Some(90);
    want.smn_notify = Some(true); // already true: not sent
    let plan = plan(&want, UID, &vault("v1"), &InFlight::default());
    assert_eq!(
        plan.calls,
        vec![Call::Update(VaultUpdate {
            size_gb: Some(200),
            threshold: Some(90),
            ..VaultUpdate::default()
        })]
    );
    assert_eq!(plan.to_string(), "update size=200, threshold=90");
}

#[test]
fn fields_absent_from_the_spec_are_not_managed() {
    let mut have = vault("v1");
    have.threshold = 55;
    have.auto_bind = true;
    have.smn_notify = false;
    have.bind_rules = vec![Tag::new("backup", "yes")];
    have.tags.push(Tag::new("owner", "finance"));
    have.resources.push(resource("srv-1"));
    assert!(plan(&spec(), UID, &have, &InFlight::default()).is_empty());
}

#[test]
fn every_changeable_field_is_compared() {
    let mut want = spec();
    want.name = "renamed".into();
    want.billing.consistent_level = crate::api::backup_vault::ConsistentLevel::AppConsistent;
    want.auto_bind = Some(true);
    want.bind_rules = Some(HuaweiBindRules {
        tags: vec![tag("backup", "yes")],
    });
    want.auto_expand = Some(true);
    want.smn_notify = Some(false);
    want.locked = Some(true);
    let plan = plan(&want, UID, &vault("v1"), &InFlight::default());
    let update = updates(&plan)[0];
    assert_eq!(update.name.as_deref(), Some("renamed"));
    assert_eq!(update.consistent_level.as_deref(), Some("app_consistent"));
    assert_eq!(update.auto_bind, Some(true));
    assert_eq!(update.bind_rules, Some(vec![Tag::new("backup", "yes")]));
    assert_eq!(update.auto_expand, Some(true));
    assert_eq!(update.smn_notify, Some(false));
    assert_eq!(update.locked, Some(true));
    assert_eq!(update.size_gb, None);
}

#[test]
fn bind_rules_compare_as_sets() {
    let mut want = spec();
    want.bind_rules = Some(HuaweiBindRules {
        tags: vec![tag("b", "2"), tag("a", "1")],
    });
    let mut have = vault("v1");
    have.bind_rules = vec![Tag::new("a", "1"), Tag::new("b", "2")];
    assert!(plan(&want, UID, &have, &InFlight::default()).is_empty());
}

#[test]
fn auto_expanded_vault_is_not_shrunk() {
    let mut want = spec();
    want.auto_expand = Some(true);
    let mut have = vault("v1");
    have.auto_expand = true;
    have.size_gb = 160;
    assert!(plan(&want, UID, &have, &InFlight::default()).is_empty());
    want.billing.size = 200;
    let plan = plan(&want, UID, &have, &InFlight::default());
    assert_eq!(updates(&plan)[0].size_gb, Some(200));
}

#[test]
fn locked_vault_is_never_unlocked() {
    let mut want = spec();
    want.locked = Some(false);
    let mut have = vault("v1");
    have.locked = true;
    let plan = plan(&want, UID, &have, &InFlight::default());
    assert!(plan.calls.is_empty());
    assert_eq!(plan.blocked, vec![Blocked::Unlock]);
}

#[test]
fn immutable_drift_is_reported_not_acted() {
    let mut want = spec();
    want.description = Some("nightly".into());
    want.billing.object_type = ObjectType::Disk;
    want.billing.cloud_type = Some(CloudType::Hybrid);
    want.billing.is_multi_az = Some(true);
    want.enterprise_project_id = Some("ep-1".into());
    let plan = plan(&want, UID, &vault("v1"), &InFlight::default());
    assert!(plan.calls.is_empty());
    let fields: Vec<_> = plan
        .blocked
        .iter()
        .map(|b| match b {
            Blocked::Immutable { field, .. } => *field,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        fields,
        [
            "description",
            "billing.objectType",
            "billing.cloudType",
            "billing.isMultiAz",
            "enterpriseProjectId"
        ]
    );
    assert_eq!(plan.blocked[0].reason(), "ImmutableFieldDiffers");
    assert!(
        plan.blocked[1]
            .to_string()
            .contains("\"server\" on the vault but \"disk\"")
    );
}

#[test]
fn immutable_drift_does_not_hold_back_changeable_fields() {
    let mut want = spec();
    want.description = Some("nightly".into());
    want.threshold = Some(70);
    let plan = plan(&want, UID, &vault("v1"), &InFlight::default());
    assert_eq!(plan.blocked.len(), 1);
    assert_eq!(updates(&plan)[0].threshold, Some(70));
}

#[test]
fn ownership_tag_never_removed() {
    let mut want = spec();
    want.tags = Some(vec![tag("env", "prod")]);
    let mut have = vault("v1");
    have.tags.push(Tag::new("env", "prod"));
    have.tags.push(Tag::new("stale", "x"));
    let plan = plan(&want, UID, &have, &InFlight::default());
    assert_eq!(
        plan.calls,
        vec![Call::RemoveTags(vec![Tag::new("stale", "x")])]
    );
}

#[test]
fn missing_or_wrong_ownership_tag_is_restored() {
    let mut have = vault("v1");
    have.tags = vec![Tag::new(OWNERSHIP_TAG, "someone-else")];
    let plan = plan(&spec(), UID, &have, &InFlight::default());
    assert_eq!(plan.calls, vec![Call::AddTags(vec![owner_tag(UID)])]);
}

#[test]
fn tags_set_in_the_spec_are_added_or_overwritten() {
    let mut want = spec();
    want.tags = Some(vec![tag("env", "prod"), tag("team", "a")]);
    let mut have = vault("v1");
    have.tags.push(Tag::new("env", "dev"));
    let plan = plan(&want, UID, &have, &InFlight::default());
    assert_eq!(
        plan.calls,
        vec![Call::AddTags(vec![
            Tag::new("env", "prod"),
            Tag::new("team", "a")
        ])]
    );
}

#[test]
fn resources_are_added_and_removed_by_id() {
    let mut want = spec();
    want.resources = Some(vec![server("srv-1"), server("srv-2")]);
    let mut have = vault("v1");
    have.resources = vec![resource("srv-1"), resource("srv-9")];
    let plan = plan(&want, UID, &have, &InFlight::default());
    assert_eq!(
        plan.calls,
        vec![
            Call::RemoveResources(vec!["srv-9".into()]),
            Call::AddResources(vec![VaultResource {
                id: "srv-2".into(),
                type_: "OS::Nova::Server".into(),
                exclude_volumes: vec![],
            }]),
        ]
    );
}

#[test]
fn a_resource_just_added_is_awaited_not_added_again() {
    let mut want = spec();
    want.resources = Some(vec![server("srv-1")]);
    let have = vault("v1");
    let first = plan(&want, UID, &have, &InFlight::default());
    let mut in_flight = InFlight::default();
    for call in &first.calls {
        in_flight.record(call);
    }

    let second = plan(&want, UID, &have, &in_flight);
    assert!(second.calls.is_empty());
    assert_eq!(second.awaiting, vec!["srv-1".to_string()]);

    // Still missing after the settle time, the engine drops the key: ask again.
    assert_eq!(
        plan(&want, UID, &have, &InFlight::default()).calls,
        first.calls
    );
}

#[test]
fn a_resource_just_removed_is_awaited_not_removed_again() {
    let mut want = spec();
    want.resources = Some(vec![server("srv-1")]);
    let mut have = vault("v1");
    have.resources = vec![resource("srv-1"), resource("srv-9")];
    let first = plan(&want, UID, &have, &InFlight::default());
    assert_eq!(first.calls, [Call::RemoveResources(vec!["srv-9".into()])]);
    let mut in_flight = InFlight::default();
    for call in &first.calls {
        in_flight.record(call);
    }

    // CBR still lists it right after the remove.
    let second = plan(&want, UID, &have, &in_flight);
    assert!(second.calls.is_empty(), "{:?}", second.calls);
    assert_eq!(second.awaiting, vec!["srv-9".to_string()]);
}

#[test]
fn a_resource_that_shows_up_settles() {
    let mut want = spec();
    want.resources = Some(vec![server("srv-1")]);
    let mut in_flight = InFlight::default();
    let calls = plan(&want, UID, &vault("v1"), &in_flight).calls;
    for call in &calls {
        in_flight.record(call);
    }
    let mut have = vault("v1");
    have.resources.push(resource("srv-1"));
    let keys: Vec<String> = calls.iter().flat_map(awaits).collect();
    assert!(keys.iter().all(|k| settled(&have, k)));
    assert!(!in_flight.is_empty());
    assert_eq!(
        plan(&want, UID, &have, &InFlight::default()),
        Plan::default()
    );
}

#[test]
fn changed_exclude_volumes_is_reported_not_acted() {
    let mut want = spec();
    let mut srv = server("srv-1");
    srv.exclude_volumes = vec!["vol-b".into(), "vol-a".into()];
    want.resources = Some(vec![srv]);
    let mut have = vault("v1");
    have.resources = vec![resource("srv-1")];
    let plan = plan(&want, UID, &have, &InFlight::default());
    assert!(plan.calls.is_empty());
    assert_eq!(
        plan.blocked,
        vec![Blocked::ExcludeVolumes {
            resource: "srv-1".into(),
            vault: vec![],
            spec: vec!["vol-a".into(), "vol-b".into()],
        }]
    );
}

#[test]
fn create_request_carries_the_ownership_tag_and_the_whole_spec() {
    let mut want = spec();
    want.tags = Some(vec![tag("env", "prod")]);
    want.resources = Some(vec![server("srv-1")]);
    want.billing.cloud_type = Some(CloudType::Public);
    let request = create_request(&want, UID);
    assert_eq!(request.tags, vec![Tag::new("env", "prod"), owner_tag(UID)]);
    assert_eq!(request.consistent_level, "crash_consistent");
    assert_eq!(request.object_type, "server");
    assert_eq!(request.cloud_type.as_deref(), Some("public"));
    assert_eq!(request.resources.len(), 1);
    assert_eq!(request.size_gb, 100);
}
