//! The Agency plan from plain fixtures: normalised durations, the trust
//! pair on every update, grants as a set.

use std::collections::BTreeSet;

use super::plan::{
    Call, Observed, Plan, Resolved, create_request, plan, scope_of, show_scope, show_validity,
    updated_fields, validity,
};
use crate::api::agency::{AgencyDuration, GrantScope as SpecScope, HuaweiAgency, TrustDomain};
use crate::provider::huawei::iam::{Agency, Grant, GrantScope, TrustParty, Validity};

const TRUST_ID: &str = "3ebe1024db46485cb02ef08d3c348477";

fn spec() -> HuaweiAgency {
    HuaweiAgency {
        name: "ops".into(),
        description: Some("ops".into()),
        trust_domain: Some(TrustDomain {
            name: Some("central-ops".into()),
            id: None,
        }),
        cloud_service: None,
        duration: AgencyDuration::Days(20),
        roles: Vec::new(),
    }
}

fn grant(scope: GrantScope, role: &str) -> Grant {
    Grant {
        scope,
        role_id: role.into(),
    }
}

/// The agency IAM would show for `spec()`: 20 days answered as 480 hours.
fn observed() -> Observed {
    Observed {
        agency: Agency {
            id: "a1".into(),
            name: "ops".into(),
            trust_domain_id: TRUST_ID.into(),
            trust_domain_name: Some("central-ops".into()),
            description: "ops".into(),
            validity: Some(Validity::Days(20)),
            ..Agency::default()
        },
        grants: BTreeSet::new(),
        resolved: Resolved::default(),
    }
}

#[test]
fn a_steady_agency_plans_nothing() {
    let plan = plan(&spec(), &observed());
    assert!(plan.calls.is_empty(), "{plan:?}");
    assert!(plan.drift.is_empty());
}

#[test]
fn one_day_and_twenty_four_hours_are_the_same() {
    let mut spec = spec();
    spec.duration = AgencyDuration::OneDay;
    let mut seen = observed();
    seen.agency.validity = Some(Validity::Days(1));
    assert!(plan(&spec, &seen).calls.is_empty());
}

#[test]
fn a_description_change_sends_the_trust_pair_and_only_the_description() {
    let mut spec = spec();
    spec.description = Some("new".into());
    let plan = plan(&spec, &observed());
    let [Call::Update(update)] = plan.calls.as_slice() else {
        panic!("one update expected: {plan:?}");
    };
    assert_eq!(
        update.trust,
        Some((TRUST_ID.to_string(), "central-ops".to_string()))
    );
    assert_eq!(update.description.as_deref(), Some("new"));
    assert_eq!(update.validity, None);
}

#[test]
fn a_trust_name_unknown_right_after_create_is_no_drift() {
    let mut seen = observed();
    seen.agency.trust_domain_name = None;
    assert!(plan(&spec(), &seen).calls.is_empty());
}

#[test]
fn grants_are_diffed_as_a_set() {
    let keep = grant(GrantScope::Domain, "r1");
    let add = grant(GrantScope::Project("p".into()), "r2");
    let remove = grant(GrantScope::AllProjects, "r3");
    let mut seen = observed();
    seen.grants = [keep.clone(), remove.clone()].into();
    seen.resolved.grants = [keep, add.clone()].into();
    let plan = plan(&spec(), &seen);
    assert_eq!(plan.calls, [Call::Grant(add), Call::Revoke(remove)]);
    assert_eq!(plan.drift.len(), 2);
}

#[test]
fn unknown_roles_are_blocked_not_guessed() {
    let mut seen = observed();
    seen.resolved.unknown = vec!["role \"Nope\"".into()];
    let plan = plan(&spec(), &seen);
    assert!(plan.calls.is_empty());
    assert_eq!(plan.blocked.len(), 1);
}

#[test]
fn moving_to_another_account_by_id_only_is_blocked() {
    let mut spec = spec();
    spec.trust_domain = Some(TrustDomain {
        name: None,
        id: Some("35d7706cedbc49a18df0783d00269c20".into()),
    });
    let plan = plan(&spec, &observed());
    assert!(plan.calls.is_empty());
    assert_eq!(plan.blocked[0].reason(), "TrustDomainNeedsName");
}

#[test]
fn each_differing_field_is_one_drift_entry_naming_the_spec_field() {
    let mut spec = spec();
    spec.description = Some("new".into());
    spec.duration = AgencyDuration::Forever;
    let mut seen = observed();
    seen.agency.trust_domain_name = Some("old-ops".into());
    let plan = plan(&spec, &seen);
    let drift: Vec<_> = plan
        .drift
        .iter()
        .map(|d| (d.field.as_str(), d.desired.as_str(), d.observed.as_str()))
        .collect();
    assert_eq!(
        drift,
        [
            ("huaweiCloud.trustDomain", "central-ops", "old-ops"),
            ("huaweiCloud.description", "new", "ops"),
            ("huaweiCloud.duration", "Forever", "20"),
        ]
    );
    let [Call::Update(update)] = plan.calls.as_slice() else {
        panic!("one update expected: {plan:?}");
    };
    assert_eq!(
        update.trust,
        Some((TRUST_ID.to_string(), "central-ops".to_string()))
    );
    assert_eq!(update.validity, Some(Validity::Forever));
    assert_eq!(
        updated_fields(update),
        [
            "trust_domain_id",
            "trust_domain_name",
            "description",
            "duration=Forever"
        ]
    );
}

#[test]
fn a_duration_change_alone_still_sends_the_observed_trust_pair() {
    let mut seen = observed();
    seen.agency.validity = Some(Validity::Days(1));
    let plan = plan(&spec(), &seen);
    assert_eq!(plan.drift[0].observed, "OneDay");
    let [Call::Update(update)] = plan.calls.as_slice() else {
        panic!("one update expected: {plan:?}");
    };
    assert_eq!(
        update.trust,
        Some((TRUST_ID.to_string(), "central-ops".to_string()))
    );
    assert_eq!(update.description, None);
    assert_eq!(update.validity, Some(Validity::Days(20)));
    assert_eq!(updated_fields(update)[2], "duration=20");
}

#[test]
fn an_unreadable_duration_is_drift_shown_as_unreadable() {
    let mut seen = observed();
    seen.agency.validity = None;
    let plan = plan(&spec(), &seen);
    assert_eq!(plan.drift[0].field, "huaweiCloud.duration");
    assert_eq!(plan.drift[0].observed, "(unreadable)");
    assert_eq!(plan.calls.len(), 1);
}

#[test]
fn a_description_the_spec_leaves_unset_is_not_managed() {
    let mut spec = spec();
    spec.description = None;
    let mut seen = observed();
    seen.agency.description = "set in the console".into();
    assert_eq!(plan(&spec, &seen), Plan::default());
}

#[test]
fn the_same_account_by_id_is_no_drift() {
    let mut spec = spec();
    spec.trust_domain = Some(TrustDomain {
        name: None,
        id: Some(TRUST_ID.into()),
    });
    let mut seen = observed();
    seen.agency.trust_domain_name = None;
    assert_eq!(plan(&spec, &seen), Plan::default());
}

#[test]
fn a_blocked_move_by_id_says_both_accounts_and_how_to_fix_it() {
    let other = "35d7706cedbc49a18df0783d00269c20";
    let mut spec = spec();
    spec.trust_domain = Some(TrustDomain {
        name: None,
        id: Some(other.into()),
    });
    let plan = plan(&spec, &observed());
    assert_eq!(plan.drift[0].field, "huaweiCloud.trustDomain");
    assert_eq!(plan.drift[0].desired, other);
    assert_eq!(plan.drift[0].observed, "central-ops");
    let message = plan.blocked[0].to_string();
    assert!(message.contains("central-ops"), "{message}");
    assert!(message.contains(other), "{message}");
    assert!(message.contains("trustDomain.name"), "{message}");
}

#[test]
fn unknown_roles_are_named_in_the_blocked_message_and_reason() {
    let mut seen = observed();
    seen.resolved.unknown = vec!["role Nope".into(), "project nowhere".into()];
    let plan = plan(&spec(), &seen);
    assert_eq!(plan.blocked[0].reason(), "UnknownRoleOrProject");
    let message = plan.blocked[0].to_string();
    assert!(message.contains("role Nope, project nowhere"), "{message}");
}

#[test]
fn grant_drift_shows_scope_and_role_on_the_roles_field() {
    let add = grant(GrantScope::Project("p1".into()), "r2");
    let remove = grant(GrantScope::AllProjects, "r3");
    let mut seen = observed();
    seen.grants = [remove].into();
    seen.resolved.grants = [add].into();
    let drift: Vec<_> = plan(&spec(), &seen)
        .drift
        .into_iter()
        .map(|d| (d.field, d.desired, d.observed))
        .collect();
    let roles = "huaweiCloud.roles".to_string();
    assert_eq!(
        drift,
        [
            (
                roles.clone(),
                "Project/p1:r2".into(),
                "(not granted)".into()
            ),
            (roles, "(not in spec)".into(), "AllProjects:r3".into()),
        ]
    );
    assert_eq!(show_scope(&GrantScope::Domain), "Domain");
}

#[test]
fn a_spec_scope_resolves_to_iams_and_a_project_needs_its_id() {
    assert_eq!(
        scope_of(SpecScope::Project, Some("p1".into())),
        Some(GrantScope::Project("p1".into()))
    );
    assert_eq!(scope_of(SpecScope::Project, None), None);
    assert_eq!(scope_of(SpecScope::Domain, None), Some(GrantScope::Domain));
    assert_eq!(
        scope_of(SpecScope::AllProjects, None),
        Some(GrantScope::AllProjects)
    );
}

#[test]
fn a_create_names_the_trusted_account_or_service_and_the_duration_in_days() {
    let request = create_request(&spec());
    assert_eq!(request.name, "ops");
    assert_eq!(request.description, "ops");
    assert_eq!(request.validity, Validity::Days(20));
    assert_eq!(
        request.trust,
        TrustParty {
            id: None,
            name: Some("central-ops".into())
        }
    );
    let mut service = spec();
    service.trust_domain = None;
    service.cloud_service = Some("op_svc_cbr".into());
    service.description = None;
    service.duration = AgencyDuration::OneDay;
    let request = create_request(&service);
    assert_eq!(request.trust.name.as_deref(), Some("op_svc_cbr"));
    assert_eq!(request.description, "");
    assert_eq!(request.validity, Validity::Days(1));
    assert_eq!(validity(AgencyDuration::Forever), Validity::Forever);
    assert_eq!(show_validity(Some(Validity::Forever)), "Forever");
}
