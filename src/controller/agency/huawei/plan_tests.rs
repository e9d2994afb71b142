//! The Agency plan from plain fixtures: normalised durations, the trust
//! pair on every update, grants as a set.

use std::collections::BTreeSet;

use super::plan::{Call, Observed, Resolved, plan};
use crate::api::agency::{AgencyDuration, HuaweiAgency, TrustDomain};
use crate::provider::huawei::iam::{Agency, Grant, GrantScope, Validity};

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
