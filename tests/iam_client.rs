//! The Huawei IAM agency client against coffer's emulator: signing with
//! `X-Domain-Id`, domain-scoped password tokens, durations in days out and
//! hours back, grants on the three scopes, and IAM's error shapes.

use std::sync::Arc;
use std::time::Duration;

use coffer::emulator::{
    self, EmulatorConfig, FaultConfig, FaultRule, Operation, RuleFault, RunningEmulator,
};
use coffer::provider::ProviderError;
use coffer::provider::huawei::iam::{
    AgencyCreate, AgencyUpdate, Grant, GrantScope, HuaweiAgencies, IamAgencyApi, TrustParty,
    Validity,
};
use coffer::provider::huawei::transport::unlimited;
use coffer::provider::huawei::{HuaweiConnection, HuaweiCredentials};
use coffer::provider::metrics::ProviderMetrics;

async fn emulator() -> RunningEmulator {
    emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts")
}

fn client(emu: &RunningEmulator, credentials: HuaweiCredentials) -> HuaweiAgencies {
    let c = emu.config();
    let conn = HuaweiConnection {
        region: c.region.clone(),
        project_id: c.project_id.clone(),
        domain_id: Some(c.domain_id.clone()),
        iam_endpoint: emu.base_url(),
        cbr_endpoint: emu.base_url(),
        ca_bundle: None,
        credentials,
    };
    HuaweiAgencies::new(&conn, Arc::new(ProviderMetrics::new()), unlimited()).expect("client")
}

fn access_key(emu: &RunningEmulator) -> HuaweiCredentials {
    let c = emu.config();
    HuaweiCredentials::AccessKey {
        access_key: c.access_key.clone(),
        secret_key: c.secret_key.clone(),
    }
}

fn password(emu: &RunningEmulator) -> HuaweiCredentials {
    let c = emu.config();
    HuaweiCredentials::Password {
        username: c.username.clone(),
        password: c.password.clone(),
        domain_name: c.domain_name.clone(),
    }
}

fn agency(name: &str, validity: Validity) -> AgencyCreate {
    AgencyCreate {
        name: name.to_string(),
        trust: TrustParty {
            id: None,
            name: Some("central-ops".to_string()),
        },
        description: "ops".to_string(),
        validity,
    }
}

#[tokio::test]
async fn agency_round_trip_with_access_key() {
    let emu = emulator().await;
    let iam = client(&emu, access_key(&emu));
    let created = iam
        .create_agency(&agency("ops", Validity::Days(20)))
        .await
        .expect("created");
    assert_eq!(created.validity, Some(Validity::Days(20)));
    let shown = iam.get_agency(&created.id).await.expect("shown");
    assert_eq!(shown.trust_domain_name.as_deref(), Some("central-ops"));
    assert_eq!(iam.find_agencies("ops").await.expect("listed").len(), 1);

    let again = iam.create_agency(&agency("ops", Validity::Forever)).await;
    assert!(
        matches!(again, Err(ProviderError::Conflict { .. })),
        "{again:?}"
    );

    let update = AgencyUpdate {
        trust: Some((shown.trust_domain_id.clone(), "central-ops".to_string())),
        description: Some("new".to_string()),
        validity: None,
    };
    let updated = iam
        .update_agency(&created.id, &update)
        .await
        .expect("updated");
    assert_eq!(updated.description, "new");
    let body = &emu.requests(Some(Operation::UpdateAgency))[0].body;
    assert!(body.to_string().contains("trust_domain_name"), "{body}");

    iam.delete_agency(&created.id).await.expect("deleted");
    let gone = iam.get_agency(&created.id).await;
    assert!(matches!(gone, Err(e) if e.is_not_found()));
    iam.delete_agency(&created.id)
        .await
        .expect("deleting twice is fine");
}

#[tokio::test]
async fn password_sign_in_uses_a_domain_scoped_token() {
    let emu = emulator().await;
    let iam = client(&emu, password(&emu));
    let created = iam
        .create_agency(&agency("pw", Validity::Days(1)))
        .await
        .expect("created with a domain-scoped token");
    assert_eq!(created.validity, Some(Validity::Days(1)));
}

#[tokio::test]
async fn unknown_trust_domain_is_invalid_not_missing() {
    let emu = emulator().await;
    let iam = client(&emu, access_key(&emu));
    let mut create = agency("x", Validity::Forever);
    create.trust.name = Some("nobody".to_string());
    let err = iam.create_agency(&create).await.expect_err("refused");
    assert!(matches!(err, ProviderError::Invalid { .. }), "{err:?}");
}

#[tokio::test]
async fn grants_on_every_scope_resolve_and_round_trip() {
    let emu = emulator().await;
    let iam = client(&emu, access_key(&emu));
    let created = iam
        .create_agency(&agency("g", Validity::Forever))
        .await
        .expect("created");
    let role = iam
        .find_role("CBR ReadOnlyAccess")
        .await
        .expect("catalog")
        .expect("known role");
    let project = iam
        .list_projects()
        .await
        .expect("projects")
        .into_iter()
        .find(|p| p.name == emu.config().region)
        .expect("known project")
        .id;
    for scope in [
        GrantScope::Project(project),
        GrantScope::Domain,
        GrantScope::AllProjects,
    ] {
        let grant = Grant {
            scope: scope.clone(),
            role_id: role.id.clone(),
        };
        iam.grant(&created.id, &grant).await.expect("granted");
        let listed = iam.list_grants(&created.id, &scope).await.expect("listed");
        assert_eq!(listed, std::slice::from_ref(&role.id), "{scope:?}");
        iam.revoke(&created.id, &grant).await.expect("revoked");
        assert!(
            iam.list_grants(&created.id, &scope)
                .await
                .expect("listed")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_new_agency_may_be_missing_from_get_for_a_while() {
    let emu = emulator().await;
    emu.set_agency_read_delay(Duration::from_millis(500));
    let iam = client(&emu, access_key(&emu));
    let created = iam
        .create_agency(&agency("late", Validity::Forever))
        .await
        .expect("created");
    assert!(
        matches!(iam.get_agency(&created.id).await, Err(e) if e.is_not_found()),
        "a new agency reads as not found for a while, not as another error"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(iam.get_agency(&created.id).await.is_ok());
}

/// A password token for the emulator's user, scoped as `scope` says.
async fn token(emu: &RunningEmulator, scope: serde_json::Value) -> String {
    let c = emu.config();
    let body = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": c.username, "password": c.password, "domain": {"name": c.domain_name}
        }}},
        "scope": scope,
    }});
    let resp = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", emu.base_url()))
        .json(&body)
        .send()
        .await
        .expect("token request");
    assert_eq!(resp.status(), 201);
    resp.headers()["x-subject-token"]
        .to_str()
        .expect("ascii token")
        .to_string()
}

async fn list_agencies_with(emu: &RunningEmulator, token: &str) -> u16 {
    let url = format!(
        "{}/v3.0/OS-AGENCY/agencies?domain_id={}",
        emu.base_url(),
        emu.config().domain_id
    );
    reqwest::Client::new()
        .get(url)
        .header("X-Auth-Token", token)
        .send()
        .await
        .expect("list request")
        .status()
        .as_u16()
}

#[tokio::test]
async fn agency_apis_take_a_domain_scoped_token_and_refuse_a_project_scoped_one() {
    let emu = emulator().await;
    let c = emu.config().clone();
    let domain = token(&emu, serde_json::json!({"domain": {"id": c.domain_id}})).await;
    assert_eq!(list_agencies_with(&emu, &domain).await, 200);
    let project = token(&emu, serde_json::json!({"project": {"id": c.project_id}})).await;
    assert_eq!(list_agencies_with(&emu, &project).await, 403);
}

/// Display names of the emulator's role catalog.
const ROLES: [&str; 6] = [
    "Tenant Guest",
    "Tenant Administrator",
    "Security Administrator",
    "CBR FullAccess",
    "CBR ReadOnlyAccess",
    "OBS OperateAccess",
];

#[tokio::test]
async fn one_listing_shows_every_agencys_grants_across_pages_until_a_grant_is_written() {
    let emu = emulator().await;
    let iam = client(&emu, access_key(&emu));
    let project = iam.list_projects().await.expect("projects")[0].id.clone();
    let mut roles = Vec::new();
    for name in ROLES {
        roles.push(iam.find_role(name).await.expect("role").expect("known").id);
    }
    // 4 agencies × 6 roles × 3 scopes: 72 grants, more than a page of 50.
    let mut granted = Vec::new();
    for i in 0..4 {
        let id = iam
            .create_agency(&agency(&format!("listed-{i}"), Validity::Forever))
            .await
            .expect("created")
            .id;
        let mut grants = std::collections::BTreeSet::new();
        for role_id in &roles {
            for scope in [
                GrantScope::Project(project.clone()),
                GrantScope::Domain,
                GrantScope::AllProjects,
            ] {
                let grant = Grant {
                    scope,
                    role_id: role_id.clone(),
                };
                iam.grant(&id, &grant).await.expect("granted");
                grants.insert(grant);
            }
        }
        granted.push((id, grants));
    }
    let bare = iam
        .create_agency(&agency("listed-bare", Validity::Forever))
        .await
        .expect("created")
        .id;

    // A client of its own: this one has written every agency above.
    let fresh = client(&emu, access_key(&emu));
    let age = Duration::from_secs(60);
    for (id, grants) in &granted {
        let listed = fresh.listed_agency(id, age).await.expect("listed");
        let listed = listed.found().expect("in the listing");
        assert_eq!(listed.grants.as_ref(), Some(grants), "agency {id}");
    }
    let listed = fresh.listed_agency(&bare, age).await.expect("listed");
    let listed = listed.found().expect("in the listing");
    assert_eq!(listed.grants, Some(Default::default()));
    // The inherited grants in a page; every grant in two more.
    let lists = emu.requests(Some(Operation::ShowDomainRoleAssignments));
    assert_eq!(lists.len(), 3, "{lists:#?}");
    assert!(
        lists
            .iter()
            .all(|r| r.query.get("per_page").map(String::as_str) == Some("50"))
    );

    let (id, _) = &granted[0];
    let grant = Grant {
        scope: GrantScope::Domain,
        role_id: roles[0].clone(),
    };
    fresh.revoke(id, &grant).await.expect("revoked");
    let after = fresh.listed_agency(id, age).await.expect("listed");
    assert_eq!(after, coffer::provider::snapshot::Listed::Unknown);
    let other = fresh
        .listed_agency(&granted[1].0, age)
        .await
        .expect("listed");
    assert!(other.found().is_some(), "another agency is still answered");
}

#[tokio::test]
async fn a_refused_role_assignment_list_leaves_grants_to_a_read_per_agency() {
    let emu = emulator().await;
    emu.set_faults(FaultConfig {
        rules: vec![FaultRule {
            operation: Operation::ShowDomainRoleAssignments,
            after: 0,
            times: None,
            fault: RuleFault::Status(403),
        }],
        ..FaultConfig::default()
    })
    .expect("a 403 rule");
    let iam = client(&emu, access_key(&emu));
    let id = iam
        .create_agency(&agency("refused", Validity::Forever))
        .await
        .expect("created")
        .id;
    let fresh = client(&emu, access_key(&emu));
    let listed = fresh
        .listed_agency(&id, Duration::from_secs(60))
        .await
        .expect("the agencies are still listed");
    let listed = listed.found().expect("in the listing");
    assert_eq!(listed.agency.id, id);
    assert_eq!(listed.grants, None);
}
