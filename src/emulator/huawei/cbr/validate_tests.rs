//! Tests of CBR's request rules, kept apart so the rules read on their own.

use serde_json::json;

use super::*;
use crate::emulator::huawei::cbr::wire::{CreateVaultBody, UpdateVaultBody};

fn create(vault: serde_json::Value) -> Result<NewVault, CbrError> {
    let body: CreateVaultBody =
        serde_json::from_value(json!({ "vault": vault })).expect("wire shape");
    new_vault(body.vault)
}

fn minimal() -> serde_json::Value {
    json!({
        "name": "team-a",
        "billing": {"consistent_level": "crash_consistent", "object_type": "server",
                    "protect_type": "backup", "size": 100},
        "resources": [],
    })
}

fn with(mut base: serde_json::Value, key: &str, value: serde_json::Value) -> serde_json::Value {
    base[key] = value;
    base
}

fn update(settings: &VaultSettings, vault: serde_json::Value) -> Result<VaultSettings, CbrError> {
    let body: UpdateVaultBody =
        serde_json::from_value(json!({ "vault": vault })).expect("wire shape");
    apply_update(settings, body.vault)
}

fn settings() -> VaultSettings {
    create(minimal()).expect("valid").settings
}

#[test]
fn minimal_create_gets_documented_defaults() {
    let vault = create(minimal()).expect("valid");
    let s = &vault.settings;
    assert_eq!(s.billing.charging_mode, ChargingMode::PostPaid);
    assert_eq!(s.threshold, 80);
    assert!(s.smn_notify);
    assert!(!s.locked && !s.auto_expand && !s.auto_bind);
    assert_eq!(s.enterprise_project_id, "0");
    assert!(vault.tags.is_empty() && vault.resources.is_empty());
}

#[test]
fn names_allow_letters_digits_dash_underscore_and_cjk() {
    assert!(vault_name("vault_name-02").is_ok());
    assert!(vault_name("备份库1").is_ok());
    assert!(vault_name("").is_err());
    assert!(vault_name("has space").is_err());
    assert!(vault_name("dot.name").is_err());
    assert!(vault_name(&"a".repeat(64)).is_ok());
    assert!(vault_name(&"a".repeat(65)).is_err());
}

#[test]
fn description_is_short_and_free_of_angle_brackets() {
    assert!(description("nightly backups").is_ok());
    assert!(description("<script>").is_err());
    assert!(description(&"d".repeat(65)).is_err());
}

#[test]
fn create_size_out_of_range_is_6101() {
    for bad in [9, 10_485_761, -1] {
        let mut vault = minimal();
        vault["billing"]["size"] = json!(bad);
        let err = create(vault).expect_err("bad size");
        assert_eq!(err, CbrError::InvalidSize);
        assert_eq!(err.code(), "BackupService.6101");
    }
    let mut vault = minimal();
    vault["billing"]["size"] = json!(10);
    assert!(create(vault).is_ok());
}

#[test]
fn pre_paid_create_is_refused() {
    let mut vault = minimal();
    vault["billing"]["charging_mode"] = json!("pre_paid");
    assert!(matches!(create(vault), Err(CbrError::InvalidParameter(_))));
}

#[test]
fn unknown_enum_values_and_fields_fail_to_parse() {
    let mut bad_enum = minimal();
    bad_enum["billing"]["object_type"] = json!("tape");
    assert!(serde_json::from_value::<CreateVaultBody>(json!({ "vault": bad_enum })).is_err());
    let extra = with(minimal(), "colour", json!("blue"));
    assert!(serde_json::from_value::<CreateVaultBody>(json!({ "vault": extra })).is_err());
}

#[test]
fn threshold_must_be_a_percentage() {
    assert_eq!(threshold(1), Ok(1));
    assert_eq!(threshold(100), Ok(100));
    assert!(threshold(0).is_err());
    assert!(threshold(101).is_err());
    assert!(threshold(-5).is_err());
}

#[test]
fn tags_are_trimmed_and_checked() {
    let vault = create(with(
        minimal(),
        "tags",
        json!([{"key": "  k8s-uid ", "value": " 1b2c.x_y-z "}]),
    ))
    .expect("valid");
    assert_eq!(
        vault.tags,
        vec![Tag {
            key: "k8s-uid".to_string(),
            value: "1b2c.x_y-z".to_string()
        }]
    );
    for bad in [
        json!([]),
        json!([{"key": "", "value": "v"}]),
        json!([{"key": "a=b", "value": "v"}]),
        json!([{"key": "k", "value": "has space"}]),
        json!([{"key": "k"}]),
        json!([{"key": "k", "value": "1"}, {"key": " k", "value": "2"}]),
        json!([{"key": "k".repeat(37), "value": "v"}]),
        json!([{"key": "k", "value": "v".repeat(44)}]),
    ] {
        assert!(
            create(with(minimal(), "tags", bad.clone())).is_err(),
            "accepted {bad}"
        );
    }
}

#[test]
fn at_most_ten_tags_and_five_bind_rules() {
    let tags = |n: usize| {
        json!(
            (0..n)
                .map(|i| json!({"key": format!("k{i}"), "value": "v"}))
                .collect::<Vec<_>>()
        )
    };
    assert!(create(with(minimal(), "tags", tags(10))).is_ok());
    assert!(create(with(minimal(), "tags", tags(11))).is_err());
    assert!(create(with(minimal(), "bind_rules", json!({"tags": tags(5)}))).is_ok());
    assert!(create(with(minimal(), "bind_rules", json!({"tags": tags(6)}))).is_err());
}

#[test]
fn resources_must_fit_the_vault_and_not_repeat() {
    let server = json!({"id": "s1", "type": "OS::Nova::Server"});
    let disk = json!({"id": "d1", "type": "OS::Cinder::Volume"});
    assert_eq!(
        create(with(minimal(), "resources", json!([server]))).map(|v| v.resources.len()),
        Ok(1)
    );
    assert_eq!(
        create(with(minimal(), "resources", json!([disk]))).map_err(|e| e.code()),
        Err("BackupService.6102")
    );
    assert_eq!(
        create(with(minimal(), "resources", json!([server, server]))).map_err(|e| e.code()),
        Err("BackupService.6104")
    );
    let many: Vec<_> = (0..256)
        .map(|i| json!({"id": format!("s{i}"), "type": "OS::Nova::Server"}))
        .collect();
    assert!(create(with(minimal(), "resources", json!(many))).is_err());
}

#[test]
fn update_changes_only_the_fields_sent() {
    let before = settings();
    let after = update(
        &before,
        json!({"billing": {"size": 200}, "name": "vault_name02"}),
    )
    .expect("valid");
    assert_eq!(after.name, "vault_name02");
    assert_eq!(after.billing.size, 200);
    assert_eq!(
        VaultSettings {
            name: before.name.clone(),
            billing: Billing {
                size: before.billing.size,
                ..after.billing.clone()
            },
            ..after
        },
        before
    );
}

#[test]
fn update_rejects_fields_the_api_does_not_have() {
    for body in [
        json!({"description": "x"}),
        json!({"billing": {"object_type": "disk"}}),
        json!({"tags": []}),
    ] {
        assert!(
            serde_json::from_value::<UpdateVaultBody>(json!({ "vault": body.clone() })).is_err(),
            "accepted {body}"
        );
    }
}

#[test]
fn update_size_allows_down_to_one_gb() {
    assert_eq!(
        update(&settings(), json!({"billing": {"size": 1}})).map(|s| s.billing.size),
        Ok(1)
    );
    assert_eq!(
        update(&settings(), json!({"billing": {"size": 0}})),
        Err(CbrError::InvalidSize)
    );
}

#[test]
fn lock_is_one_way() {
    let locked = update(&settings(), json!({"locked": true})).expect("locking is allowed");
    assert!(locked.locked);
    let err = update(&locked, json!({"locked": false})).expect_err("unlocking is not");
    assert_eq!(err.code(), "BackupService.6110");
    assert!(update(&locked, json!({"locked": true})).is_ok());
}

#[test]
fn post_paid_only_fields_are_refused_on_pre_paid() {
    let mut pre_paid = settings();
    pre_paid.billing.charging_mode = ChargingMode::PrePaid;
    assert!(update(&pre_paid, json!({"billing": {"size": 200}})).is_err());
    assert!(update(&pre_paid, json!({"auto_expand": true})).is_err());
    assert!(update(&pre_paid, json!({"threshold": 90})).is_ok());
}

#[test]
fn empty_bind_rules_clear_them() {
    let with_rules = update(
        &settings(),
        json!({"bind_rules": {"tags": [{"key": "env", "value": "prod"}]}}),
    )
    .expect("valid");
    assert_eq!(with_rules.bind_rules.len(), 1);
    let cleared = update(&with_rules, json!({"bind_rules": {"tags": []}})).expect("valid");
    assert!(cleared.bind_rules.is_empty());
}
