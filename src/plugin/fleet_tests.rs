use serde_json::json;

use super::*;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + second).expect("valid")
}

fn cond(type_: &str, status: &str, reason: &str, since: i64) -> Value {
    json!({"type": type_, "status": status, "reason": reason,
           "message": format!("{type_} is {status}: {reason}"),
           "lastTransitionTime": at(since).to_string()})
}

fn vault(name: &str, conditions: Vec<Value>) -> Value {
    json!({"metadata": {"name": name, "namespace": "team-a"},
           "spec": {"providerConfigRef": {"name": "cloud"}},
           "status": {"conditions": conditions}})
}

#[test]
fn a_failing_sync_explains_the_row_and_counts_since_it_changed() {
    let obj = vault(
        "v",
        vec![
            cond("Ready", "True", "Available", 0),
            cond("Synced", "False", "Throttled", 40),
        ],
    );
    let r = row("BackupVault", &obj, at(100));
    assert_eq!(
        (r.state, r.reason.as_str(), r.for_seconds),
        (State::Failing, "Throttled", Some(60))
    );
    assert_eq!((r.ready.as_str(), r.synced.as_str()), ("True", "False"));
    assert_eq!(
        (r.namespace.as_str(), r.provider.as_str()),
        ("team-a", "cloud")
    );
}

#[test]
fn progress_paused_unknown_and_ready_are_told_apart() {
    let cases = [
        (vec![cond("Ready", "True", "Available", 0)], State::Ready),
        (
            vec![
                cond("Ready", "False", "Deleting", 0),
                cond("Synced", "True", "ReconcileSuccess", 0),
            ],
            State::Progressing,
        ),
        (
            vec![
                cond("Ready", "True", "Available", 0),
                cond("Synced", "False", "ReconcilePaused", 0),
            ],
            State::Ready,
        ),
        (
            vec![
                cond("Ready", "False", "Frozen", 0),
                cond("Synced", "True", "ReconcileSuccess", 0),
            ],
            State::Failing,
        ),
        (vec![], State::Unknown),
    ];
    for (conditions, state) in cases {
        let obj = vault("v", conditions.clone());
        assert_eq!(
            row("BackupVault", &obj, at(0)).state,
            state,
            "{conditions:?}"
        );
    }
}

#[test]
fn a_provider_configs_provider_is_its_cloud() {
    let obj = json!({"metadata": {"name": "cv", "namespace": "team-a"},
                     "spec": {"commvault": {"apiUrl": "https://cc.example.com"}}});
    assert_eq!(row("ProviderConfig", &obj, at(0)).provider, "commvault");
    assert_eq!(
        row("ClusterProviderConfig", &obj, at(0)).provider,
        "commvault"
    );
}

#[test]
fn an_object_on_a_cluster_provider_config_says_so() {
    let mut obj = vault("v", vec![]);
    obj["spec"]["providerConfigRef"]["kind"] = json!("ClusterProviderConfig");
    assert_eq!(row("BackupVault", &obj, at(0)).provider, "cpc/cloud");
}

#[test]
fn failing_rows_come_first_and_the_summary_counts_reasons() {
    let mut rows = vec![
        row(
            "BackupVault",
            &vault("a", vec![cond("Ready", "True", "Available", 0)]),
            at(0),
        ),
        row(
            "BackupVault",
            &vault("b", vec![cond("Synced", "False", "SecretNotFound", 0)]),
            at(0),
        ),
        row(
            "Agency",
            &vault("c", vec![cond("Synced", "False", "SecretNotFound", 0)]),
            at(0),
        ),
    ];
    sort(&mut rows);
    let order: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["c", "b", "a"]);
    let s = summary(&rows);
    assert_eq!(s.total, 3);
    assert_eq!(s.by_state.get("failing"), Some(&2));
    assert_eq!(s.by_state.get("ready"), Some(&1));
    assert_eq!(s.failing_by_reason.get("SecretNotFound"), Some(&2));
}

#[test]
fn plan_and_drift_give_one_line_per_call_and_field() {
    let obj = json!({"metadata": {"name": "v", "namespace": "team-a"},
        "status": {
            "plan": [{"operation": "update", "target": "vault 2402", "fields": ["size=200", "threshold=90"]},
                     {"operation": "addTags", "target": "vault 2402"}],
            "drift": [{"field": "huaweiCloud.billing.size", "desired": "200", "observed": "100", "action": "update"},
                      {"field": "huaweiCloud.name", "desired": "b", "observed": "a", "action": "blocked", "reason": "immutable"}]}});
    let plan: Vec<String> = plan_lines("BackupVault", &obj)
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(
        plan,
        [
            "update vault 2402: size=200, threshold=90",
            "addTags vault 2402"
        ]
    );
    let drift: Vec<String> = drift_lines("BackupVault", &obj)
        .into_iter()
        .map(|l| l.text)
        .collect();
    assert_eq!(
        drift,
        [
            "huaweiCloud.billing.size: 100 → 200 (update)",
            "huaweiCloud.name: a → b (blocked): immutable"
        ]
    );
}
