//! What IAM resolves names against: the accounts an agency may trust, the
//! system roles, and the caller's projects. Fixed tables, so tests and the
//! official SDK can name them without setting anything up.

use serde_json::{Value, json};

use crate::emulator::huawei::identity::Identity;
use crate::provider::huawei::signer::hex_sha256;

/// Other accounts the emulator knows, by name and id. An agency may trust
/// one of these, the caller's own account, or a cloud service.
pub const PARTNER_DOMAINS: [(&str, &str); 2] = [
    ("central-ops", "3ebe1024db46485cb02ef08d3c348477"),
    ("partner-account", "35d7706cedbc49a18df0783d00269c20"),
];

/// A delegated account as IAM resolved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustDomain {
    pub id: String,
    pub name: String,
}

/// Every account the emulator can resolve: its own, the partners, and
/// `op_svc_<service>` pseudo-accounts (id derived from the name, stable).
fn known_domains(identity: &Identity) -> Vec<TrustDomain> {
    std::iter::once((identity.domain_name.as_str(), identity.domain_id.as_str()))
        .chain(PARTNER_DOMAINS)
        .map(|(name, id)| TrustDomain {
            id: id.to_string(),
            name: name.to_string(),
        })
        .collect()
}

/// Whether `name` is a cloud-service pseudo-account (`^op_svc_[A-Za-z]+$`).
pub fn is_cloud_service(name: &str) -> bool {
    name.strip_prefix("op_svc_")
        .is_some_and(|svc| !svc.is_empty() && svc.chars().all(|c| c.is_ascii_alphabetic()))
}

fn service_domain(name: &str) -> TrustDomain {
    TrustDomain {
        id: hex_sha256(name.as_bytes())[..32].to_string(),
        name: name.to_string(),
    }
}

pub fn domain_by_name(identity: &Identity, name: &str) -> Option<TrustDomain> {
    if is_cloud_service(name) {
        return Some(service_domain(name));
    }
    known_domains(identity).into_iter().find(|d| d.name == name)
}

pub fn domain_by_id(identity: &Identity, id: &str) -> Option<TrustDomain> {
    known_domains(identity).into_iter().find(|d| d.id == id)
}

/// A system role: id, name, display name, and where it may be granted
/// (`AX`: domain level, `XA`: project level, as IAM's `type` says).
pub struct Role {
    pub id: &'static str,
    pub name: &'static str,
    pub display_name: &'static str,
    pub kind: &'static str,
    pub catalog: &'static str,
}

/// A handful of real system roles, enough for tests and examples.
pub const ROLES: [Role; 6] = [
    Role {
        id: "0d2b6b1bb3e2487e86a0ab86b7f21b7a",
        name: "readonly",
        display_name: "Tenant Guest",
        kind: "AA",
        catalog: "BASE",
    },
    Role {
        id: "8a0ae2ae9a6f4c6cb5b8e5f2b8c5d8a1",
        name: "te_admin",
        display_name: "Tenant Administrator",
        kind: "AA",
        catalog: "BASE",
    },
    Role {
        id: "5d1c7d4e8f6a4b3c9e2d1f0a9b8c7d6e",
        name: "secu_admin",
        display_name: "Security Administrator",
        kind: "AX",
        catalog: "BASE",
    },
    Role {
        id: "b2a4c6d8e0f24a6c8e0a2c4e6a8c0e2a",
        name: "system_all_1001",
        display_name: "CBR FullAccess",
        kind: "XA",
        catalog: "CBR",
    },
    Role {
        id: "c3b5d7e9f1a34b5d7f9b1d3f5b7d9f1b",
        name: "system_all_1002",
        display_name: "CBR ReadOnlyAccess",
        kind: "XA",
        catalog: "CBR",
    },
    Role {
        id: "d4c6e8f0a2b44c6e8a0c2e4a6c8e0a2c",
        name: "system_all_64",
        display_name: "OBS OperateAccess",
        kind: "XA",
        catalog: "OBS",
    },
];

pub fn role(id: &str) -> Option<&'static Role> {
    ROLES.iter().find(|r| r.id == id)
}

/// A role as `GET /v3/roles` and the grant lists show it.
pub fn role_view(role: &Role, with_display_name: bool) -> Value {
    let mut view = json!({
        "id": role.id,
        "name": role.name,
        "type": role.kind,
        "catalog": role.catalog,
        "description": format!("{} (emulated system role)", role.display_name),
        "domain_id": null,
        "flag": "fine_grained",
        "links": {"self": format!("/v3/roles/{}", role.id)},
    });
    if with_display_name {
        view["display_name"] = json!(role.display_name);
    }
    view
}

/// The caller's one project, named after its region (`GET /v3/projects`).
pub fn project_view(identity: &Identity) -> Value {
    json!({
        "id": identity.project_id,
        "name": identity.region,
        "domain_id": identity.domain_id,
        "parent_id": identity.domain_id,
        "enabled": true,
        "is_domain": false,
        "description": "",
        "links": {"self": format!("/v3/projects/{}", identity.project_id)},
    })
}
