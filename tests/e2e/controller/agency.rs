//! Agency on the emulator's IAM, end to end: create, a steady resync that
//! writes nothing, updates that send the trust pair, grants diffed as a
//! set, out-of-band changes corrected, IAM's read lag after a create, a
//! stranger's agency left alone, and both deletion policies.

use std::sync::Arc;
use std::time::Duration;

use coffer::api::Agency;
use coffer::api::managed::ManagedStatus;
use coffer::controller::Settings;
use coffer::emulator::{Operation, RecordedRequest};
use coffer::provider::huawei::iam::{
    AgencyCreate, AgencyUpdate, HuaweiAgencies, IamAgencyApi, TrustParty, Validity,
};
use coffer::provider::huawei::transport::unlimited;
use coffer::provider::huawei::{HuaweiConnection, HuaweiCredentials};
use coffer::provider::metrics::ProviderMetrics;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::{RESYNC, Running, eventually};

/// The controllers, a Secret and a ProviderConfig `cloud` that carries the
/// account id IAM needs.
pub(super) async fn start(prefix: &str) -> Running {
    start_with(prefix, |_| {}).await
}

/// [`start`] with `configure` changing the controllers' settings first.
pub(super) async fn start_with(prefix: &str, configure: impl FnOnce(&mut Settings)) -> Running {
    let run = Running::start_bare_with(prefix, configure).await;
    let c = run.emulator.config().clone();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "creds", "labels": {"coffer.dev/credentials": "true"}},
        "stringData": {"accessKey": c.access_key, "secretKey": c.secret_key},
    }))
    .expect("secret");
    run.api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .expect("creating the Secret");
    let pc = json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": "cloud"},
        "spec": {"huaweiCloud": {
            "region": c.region, "projectId": c.project_id, "domainId": c.domain_id,
            "endpoints": {"iam": run.emulator.base_url(), "cbr": run.emulator.base_url()},
            "credentials": {"type": "AccessKey", "secretRef": {"name": "creds"}},
        }},
    });
    run.api::<coffer::api::ProviderConfig>()
        .create(
            &PostParams::default(),
            &serde_json::from_value(pc).expect("provider config"),
        )
        .await
        .expect("creating the ProviderConfig");
    run
}

/// A client of the test's own, to change IAM behind the controllers' back.
pub(super) fn iam(run: &Running) -> HuaweiAgencies {
    let c = run.emulator.config();
    let conn = HuaweiConnection {
        region: c.region.clone(),
        project_id: c.project_id.clone(),
        domain_id: Some(c.domain_id.clone()),
        iam_endpoint: run.emulator.base_url(),
        cbr_endpoint: run.emulator.base_url(),
        ca_bundle: None,
        credentials: HuaweiCredentials::AccessKey {
            access_key: c.access_key.clone(),
            secret_key: c.secret_key.clone(),
        },
    };
    HuaweiAgencies::new(&conn, Arc::new(ProviderMetrics::default()), unlimited())
        .expect("test client")
}

/// Agency `name` for an IAM agency of the same name, trusting
/// `central-ops` for 20 days, with `extra` merged into `huaweiCloud`.
pub(super) async fn create_agency(run: &Running, name: &str, extra: Value) -> Agency {
    run.api::<Agency>()
        .create(&PostParams::default(), &agency_object(name, extra))
        .await
        .expect("creating the Agency")
}

/// The Agency [`create_agency`] creates.
pub(super) fn agency_object(name: &str, extra: Value) -> Agency {
    let mut huawei = json!({
        "name": name,
        "description": "central ops reads our backups",
        "trustDomain": {"name": "central-ops"},
        "duration": 20,
        "roles": [{"role": "CBR ReadOnlyAccess", "scope": "Project", "project": "cn-north-4"}],
    });
    if let (Some(base), Some(extra)) = (huawei.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "Agency",
        "metadata": {"name": name},
        "spec": {"providerConfigRef": {"name": "cloud"}, "huaweiCloud": huawei},
    }))
    .expect("agency")
}

fn condition_is(agency: &Agency, type_: &str, status: &str) -> bool {
    agency.status.as_ref().is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == type_ && c.status == status)
    })
}

pub(super) fn is_ready(agency: &Agency) -> bool {
    condition_is(agency, "Ready", "True")
        && condition_is(agency, "Synced", "True")
        && agency
            .status
            .as_ref()
            .is_some_and(|s| s.external_id.is_some())
}

/// The Agency once `check` holds.
pub(super) async fn agency_when(
    run: &Running,
    name: &str,
    what: &str,
    check: impl Fn(&Agency) -> bool,
) -> Agency {
    let api = run.api::<Agency>();
    eventually(what, || async {
        api.get_opt(name).await.ok().flatten().filter(|a| check(a))
    })
    .await
}

/// Creates Agency `name`, waits until it is Ready and in sync with a
/// plan that is done, and returns its external id.
async fn ready_agency(run: &Running, name: &str, extra: Value) -> String {
    create_agency(run, name, extra).await;
    let agency = agency_when(run, name, &format!("{name} Ready"), |a| {
        is_ready(a) && a.status.as_ref().is_some_and(|s| s.plan.is_empty())
    })
    .await;
    external_id(&agency)
}

pub(super) fn external_id(agency: &Agency) -> String {
    agency
        .status
        .as_ref()
        .and_then(|s: &ManagedStatus<_>| s.external_id.clone())
        .expect("a Ready agency has an externalId")
}

fn iam_writes_after(run: &Running, after: u64) -> Vec<RecordedRequest> {
    run.emulator
        .requests(None)
        .into_iter()
        // The emulator's own list of what changes something, so no revoke
        // (RemoveAllProjectsPermissionFromAgency) can be missed.
        .filter(|r| r.seq > after && r.operation.mutates())
        .collect()
}

async fn patch_spec(run: &Running, name: &str, huawei: Value) {
    run.api::<Agency>()
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"huaweiCloud": huawei}})),
        )
        .await
        .expect("patching the Agency");
}

#[tokio::test]
async fn agency_becomes_ready_and_a_steady_resync_writes_nothing() {
    let run = start("ag-ready").await;
    let id = ready_agency(&run, "steady", json!({})).await;
    // The create answer lacks the trust name and URN; the first read after
    // it fills them in. From then on the agency is steady.
    agency_when(&run, "steady", "the first read after create", |a| {
        a.status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .is_some_and(|p| p.urn.is_some())
    })
    .await;
    let shown = iam(&run).get_agency(&id).await.expect("the agency exists");
    assert_eq!(shown.validity, Some(Validity::Days(20)));
    let before = run.api::<Agency>().get("steady").await.expect("agency");
    let seq = run.last_seq();
    tokio::time::sleep(RESYNC * 4).await;
    assert!(
        iam_writes_after(&run, seq).is_empty(),
        "{:?}",
        iam_writes_after(&run, seq)
    );
    assert!(
        run.emulator.requests(None).iter().any(|r| r.seq > seq
            && matches!(r.operation, Operation::ShowAgency | Operation::ListAgencies)),
        "the resync reads the agency, by id or in the listing of every agency"
    );
    let after = run.api::<Agency>().get("steady").await.expect("agency");
    assert_eq!(before.resource_version(), after.resource_version());
}

#[tokio::test]
async fn a_description_change_is_one_put_with_the_trust_pair() {
    let run = start("ag-desc").await;
    ready_agency(&run, "desc", json!({})).await;
    let seq = run.last_seq();
    patch_spec(&run, "desc", json!({"description": "now also restores"})).await;
    agency_when(&run, "desc", "the description updated", |a| {
        is_ready(a)
            && a.status
                .as_ref()
                .is_some_and(|s| s.observed_generation == a.metadata.generation)
    })
    .await;
    let writes = iam_writes_after(&run, seq);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].operation, Operation::UpdateAgency);
    let body = &writes[0].body["agency"];
    assert_eq!(body["description"], "now also restores");
    assert_eq!(body["trust_domain_name"], "central-ops");
    assert!(body["trust_domain_id"].is_string(), "{body}");
    assert!(body.get("duration").is_none(), "{body}");
    eventually("the token warning", || async {
        run.has_event("desc", "DelegatedTokensInvalidated")
            .await
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn adding_one_role_and_removing_another_is_one_grant_and_one_revoke() {
    let run = start("ag-roles").await;
    ready_agency(&run, "roles", json!({})).await;
    let seq = run.last_seq();
    patch_spec(
        &run,
        "roles",
        json!({"roles": [{"role": "Tenant Guest", "scope": "Domain"}]}),
    )
    .await;
    agency_when(&run, "roles", "the grants changed", |a| {
        is_ready(a)
            && a.status.as_ref().is_some_and(|s| {
                s.observed_generation == a.metadata.generation && s.plan.is_empty()
            })
    })
    .await;
    let ops: Vec<Operation> = iam_writes_after(&run, seq)
        .iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        ops,
        [
            Operation::AssociateAgencyWithDomainPermission,
            Operation::RemoveProjectPermissionFromAgency
        ]
    );
}

#[tokio::test]
async fn out_of_band_changes_are_corrected_with_an_event() {
    let run = start("ag-drift").await;
    let id = ready_agency(&run, "drift", json!({})).await;
    let iam = iam(&run);
    let agency = iam.get_agency(&id).await.expect("agency");
    let update = AgencyUpdate {
        trust: Some((agency.trust_domain_id.clone(), "central-ops".to_string())),
        description: Some("changed by hand".to_string()),
        validity: None,
    };
    iam.update_agency(&id, &update)
        .await
        .expect("changed by hand");
    for scope in [coffer::provider::huawei::iam::GrantScope::Project(
        run.emulator.config().project_id.clone(),
    )] {
        for role_id in iam.list_grants(&id, &scope).await.expect("grants") {
            let grant = coffer::provider::huawei::iam::Grant {
                scope: scope.clone(),
                role_id,
            };
            iam.revoke(&id, &grant).await.expect("revoked by hand");
        }
    }
    eventually("the drift corrected", || async {
        let agency = iam.get_agency(&id).await.ok()?;
        let scope = coffer::provider::huawei::iam::GrantScope::Project(
            run.emulator.config().project_id.clone(),
        );
        let grants = iam.list_grants(&id, &scope).await.ok()?;
        (agency.description == "central ops reads our backups" && grants.len() == 1).then_some(())
    })
    .await;
    eventually("a DriftCorrected Event", || async {
        run.has_event("drift", "DriftCorrected").await.then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_get_that_misses_a_new_agency_makes_no_duplicate() {
    let run = start("ag-lag").await;
    run.emulator.set_agency_read_delay(Duration::from_secs(3));
    ready_agency(&run, "lagging", json!({})).await;
    tokio::time::sleep(RESYNC * 4).await;
    let creates = run.emulator.requests(Some(Operation::CreateAgency));
    assert_eq!(creates.len(), 1, "{creates:?}");
    let agency = run.api::<Agency>().get("lagging").await.expect("agency");
    assert!(is_ready(&agency));
}

#[tokio::test]
async fn an_agency_made_outside_coffer_is_not_taken_over() {
    let run = start("ag-stranger").await;
    let iam = iam(&run);
    let theirs = iam
        .create_agency(&AgencyCreate {
            name: "taken".to_string(),
            trust: TrustParty {
                id: None,
                name: Some("partner-account".to_string()),
            },
            description: "someone else's".to_string(),
            validity: Validity::Forever,
        })
        .await
        .expect("made outside coffer");
    let seq = run.last_seq();
    create_agency(&run, "taken", json!({})).await;
    let refused = agency_when(&run, "taken", "the takeover refused", |a| {
        a.status.as_ref().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Synced" && c.reason == "AlreadyExists")
        })
    })
    .await;
    let message = refused.status.as_ref().and_then(|s| {
        s.conditions
            .iter()
            .find(|c| c.type_ == "Synced")
            .map(|c| c.message.clone())
    });
    assert!(message.is_some_and(|m| m.contains(&theirs.id) && m.contains("ObserveOnly")));
    assert!(iam_writes_after(&run, seq).is_empty());
    let still = iam.get_agency(&theirs.id).await.expect("still there");
    assert_eq!(still.description, "someone else's");
}

#[tokio::test]
async fn delete_removes_the_agency_and_orphan_keeps_it() {
    let run = start("ag-delete").await;
    let deleted = ready_agency(&run, "gone", json!({})).await;
    let kept = ready_agency(&run, "kept", json!({})).await;
    run.api::<Agency>()
        .patch(
            "kept",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"deletionPolicy": "Orphan"}})),
        )
        .await
        .expect("orphan policy");
    for name in ["gone", "kept"] {
        run.api::<Agency>()
            .delete(name, &DeleteParams::default())
            .await
            .expect("deleting the Agency");
    }
    let api = run.api::<Agency>();
    eventually("both Agencies gone", || async {
        let left = api.list(&Default::default()).await.ok()?.items.len();
        (left == 0).then_some(())
    })
    .await;
    let iam = iam(&run);
    assert!(matches!(iam.get_agency(&deleted).await, Err(e) if e.is_not_found()));
    assert!(iam.get_agency(&kept).await.is_ok());
}

#[tokio::test]
async fn the_example_agency_becomes_ready_as_it_is() {
    let run = start("ag-example").await;
    // The example names ProviderConfig `huawei`; point one at this emulator.
    let mut pc = run
        .api::<coffer::api::ProviderConfig>()
        .get("cloud")
        .await
        .expect("provider config");
    pc.metadata = kube::api::ObjectMeta {
        name: Some("huawei".to_string()),
        ..Default::default()
    };
    pc.status = None;
    run.api::<coffer::api::ProviderConfig>()
        .create(&PostParams::default(), &pc)
        .await
        .expect("creating ProviderConfig huawei");
    // The example as `make demo` applies it: through the emulator overlay,
    // which names the account and project the emulator knows.
    let overlay = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/emulator");
    let out = crate::support::env().kubectl(&["kustomize", &overlay.to_string_lossy()], None);
    assert!(out.status.success(), "kubectl kustomize examples/emulator");
    let rendered = String::from_utf8_lossy(&out.stdout).to_string();
    let example: Agency = serde_yaml::Deserializer::from_str(&rendered)
        .map(|doc| <serde_yaml::Value as serde::Deserialize>::deserialize(doc).expect("YAML"))
        .find(|doc| doc["kind"] == "Agency")
        .map(|doc| serde_yaml::from_value(doc).expect("an Agency"))
        .expect("the overlay holds the example Agency");
    let name = example.name_any();
    run.api::<Agency>()
        .create(&PostParams::default(), &example)
        .await
        .expect("creating the example");
    // Ready at once; the grants made right after the create show in
    // atProvider from the next read on.
    agency_when(&run, &name, "the example Ready with both grants", |a| {
        let roles = a
            .status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .map(|p| p.roles.len());
        is_ready(a) && roles == Some(2)
    })
    .await;
}
