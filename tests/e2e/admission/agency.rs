//! Agency: the rules an agency must keep, one rejected manifest per rule,
//! the valid agencies that keep them, and the name's transition rule.

use serde_json::{Value, json};

use super::*;

/// An agency that keeps every rule, with each optional field set.
fn agency(ns: &str) -> Value {
    json!({
        "apiVersion": "coffer.dev/v1alpha1",
        "kind": "Agency",
        "metadata": {"name": "a", "namespace": ns},
        "spec": {
            "providerConfigRef": {"name": "huawei"},
            "deletionPolicy": "Delete",
            "managementPolicy": "Full",
            "huaweiCloud": {
                "name": "ops-from-central",
                "description": "the central ops account reads our backups",
                "trustDomain": {"name": "central-ops"},
                "duration": 20,
                "roles": [
                    {"role": "CBR ReadOnlyAccess", "scope": "Project", "project": "cn-north-4"},
                    {"role": "Tenant Guest", "scope": "Domain"},
                    {"role": "CBR ReadOnlyAccess", "scope": "AllProjects"}
                ]
            }
        }
    })
}

/// A fresh namespace and a valid agency in it, its `huaweiCloud` block
/// changed by `edit`, applied.
fn apply_agency(prefix: &str, edit: impl FnOnce(&mut Value)) -> Output {
    let mut doc = agency(&new_namespace(prefix));
    edit(&mut doc["spec"]["huaweiCloud"]);
    apply_new(&doc)
}

#[test]
fn valid_agencies_are_accepted() {
    assert_accepted(&apply_agency("adm-ag-ok", |_| {}));
    assert_accepted(&apply_agency("adm-ag-svc", |hw| {
        remove(hw, "trustDomain");
        hw["cloudService"] = json!("op_svc_evs");
        hw["duration"] = json!("OneDay");
    }));
    assert_accepted(&apply_agency("adm-ag-min", |hw| {
        *hw = json!({"name": "a", "trustDomain": {"id": "0123456789abcdef0123456789abcdef"}});
    }));
}

#[test]
fn agency_without_a_provider_block_is_rejected() {
    let mut doc = agency(&new_namespace("adm-ag-oneof"));
    remove(&mut doc["spec"], "huaweiCloud");
    assert_rejected(
        &apply_new(&doc),
        "spec",
        "spec must set exactly one provider block: huaweiCloud (a Huawei Cloud IAM agency).",
    );
}

#[test]
fn agency_name_longer_than_64_characters_is_rejected() {
    let out = apply_agency("adm-ag-name", |hw| hw["name"] = json!("a".repeat(65)));
    assert_rejected(
        &out,
        "spec.huaweiCloud.name",
        "may not be more than 64 bytes",
    );
}

#[test]
fn agency_name_cannot_change() {
    let mut doc = agency(&new_namespace("adm-ag-rename"));
    assert_accepted(&apply_new(&doc));
    doc["spec"]["huaweiCloud"]["name"] = json!("another-name");
    assert_rejected(
        &apply(&doc),
        "spec.huaweiCloud.name",
        "huaweiCloud.name cannot be changed after the agency is created: IAM cannot rename an agency.",
    );
}

#[test]
fn agency_description_longer_than_255_characters_is_rejected() {
    let out = apply_agency("adm-ag-desc", |hw| {
        hw["description"] = json!("d".repeat(256))
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.description",
        "may not be more than 255 bytes",
    );
}

#[test]
fn agency_with_both_trust_domain_and_cloud_service_is_rejected() {
    let out = apply_agency("adm-ag-both", |hw| hw["cloudService"] = json!("op_svc_evs"));
    assert_rejected(&out, "spec.huaweiCloud", TRUST_ONE_OF);
}

#[test]
fn agency_without_a_delegated_party_is_rejected() {
    let out = apply_agency("adm-ag-none", |hw| remove(hw, "trustDomain"));
    assert_rejected(&out, "spec.huaweiCloud", TRUST_ONE_OF);
}

const TRUST_ONE_OF: &str = "huaweiCloud must set exactly one of trustDomain (another account) and cloudService (a cloud service such as op_svc_evs).";

#[test]
fn trust_domain_with_both_name_and_id_is_rejected() {
    let out =
        apply_agency(
            "adm-ag-tdboth",
            |hw| {
                hw["trustDomain"] =
                    json!({"name": "central-ops", "id": "0123456789abcdef0123456789abcdef"})
            },
        );
    assert_rejected(
        &out,
        "spec.huaweiCloud.trustDomain",
        "huaweiCloud.trustDomain must set exactly one of name and id.",
    );
}

#[test]
fn trust_domain_id_that_is_not_32_hex_characters_is_rejected() {
    let out = apply_agency("adm-ag-tdid", |hw| {
        hw["trustDomain"] = json!({"id": "0123456789ABCDEF0123456789ABCDEF"})
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.trustDomain.id",
        "huaweiCloud.trustDomain.id must be an account (domain) ID: exactly 32 lower-case hexadecimal characters.",
    );
}

#[test]
fn cloud_service_without_the_op_svc_prefix_is_rejected() {
    let out = apply_agency("adm-ag-svcname", |hw| {
        remove(hw, "trustDomain");
        hw["cloudService"] = json!("evs_service");
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.cloudService",
        "huaweiCloud.cloudService must be op_svc_ followed by the service's name in letters, such as op_svc_evs.",
    );
}

#[test]
fn duration_other_than_forever_oneday_or_days_is_rejected() {
    const MSG: &str =
        "huaweiCloud.duration must be Forever, OneDay or a whole number of days of at least 1.";
    let out = apply_agency("adm-ag-durw", |hw| hw["duration"] = json!("FOREVER"));
    assert_rejected(&out, "spec.huaweiCloud.duration", MSG);
    let out = apply_agency("adm-ag-dur0", |hw| hw["duration"] = json!(0));
    assert_rejected(&out, "spec.huaweiCloud.duration", MSG);
}

#[test]
fn grant_with_an_unknown_scope_is_rejected() {
    let out = apply_agency("adm-ag-scope", |hw| {
        hw["roles"] = json!([{"role": "Tenant Guest", "scope": "Region"}])
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.roles[0].scope",
        "supported values: \"Project\", \"Domain\", \"AllProjects\"",
    );
}

#[test]
fn project_grant_without_a_project_is_rejected() {
    let out = apply_agency("adm-ag-noproj", |hw| {
        hw["roles"] = json!([{"role": "Tenant Guest", "scope": "Project"}])
    });
    assert_rejected(&out, "spec.huaweiCloud.roles[0]", PROJECT_IFF);
}

#[test]
fn domain_grant_with_a_project_is_rejected() {
    let out =
        apply_agency(
            "adm-ag-domproj",
            |hw| {
                hw["roles"] =
                    json!([{"role": "Tenant Guest", "scope": "Domain", "project": "cn-north-4"}])
            },
        );
    assert_rejected(&out, "spec.huaweiCloud.roles[0]", PROJECT_IFF);
}

const PROJECT_IFF: &str =
    "huaweiCloud.roles[].project must be set when scope is Project, and only then.";

#[test]
fn the_same_grant_twice_is_rejected() {
    let out = apply_agency("adm-ag-dup", |hw| {
        hw["roles"] = json!([
            {"role": "Tenant Guest", "scope": "Project", "project": "cn-north-4"},
            {"role": "Tenant Guest", "scope": "Project", "project": "cn-north-4"}
        ])
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.roles",
        "huaweiCloud.roles must not grant the same role on the same scope twice.",
    );
}

#[test]
fn more_than_100_grants_are_rejected() {
    let out = apply_agency("adm-ag-many", |hw| {
        hw["roles"] = (0..101)
            .map(|i| json!({"role": format!("role-{i}"), "scope": "Domain"}))
            .collect()
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.roles",
        "must have at most 100 items",
    );
}

#[test]
fn role_name_longer_than_128_characters_is_rejected() {
    let out = apply_agency("adm-ag-rolelen", |hw| {
        hw["roles"] = json!([{"role": "r".repeat(129), "scope": "Domain"}])
    });
    assert_rejected(
        &out,
        "spec.huaweiCloud.roles[0].role",
        "may not be more than 128 bytes",
    );
}

#[test]
fn grants_with_the_longest_names_stay_within_the_cel_cost_budget() {
    let out = apply_agency("adm-ag-100", |hw| {
        hw["roles"] = (0..100)
            .map(|i| json!({"role": format!("{i:0128}"), "scope": "Project", "project": "p".repeat(64)}))
            .collect()
    });
    assert_accepted(&out);
}
