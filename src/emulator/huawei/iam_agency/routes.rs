//! The agency, grant and catalog routes, each behind the gate the Huawei
//! router hands in.

use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodRouter, delete, get, head, post, put};

use super::{handlers, role_assignments};
use crate::emulator::huawei::state::HuaweiState;
use crate::emulator::operation::Operation;

/// The agency, grant and catalog routes, each behind `gated` (the gate for
/// its operation), merged into the Huawei router.
pub fn routes<G>(gated: &G) -> Router<Arc<HuaweiState>>
where
    G: Fn(Operation, MethodRouter<Arc<HuaweiState>>) -> MethodRouter<Arc<HuaweiState>>,
{
    use Operation::*;
    use handlers as h;
    const PROJECT_GRANT: &str =
        "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}";
    const DOMAIN_GRANT: &str =
        "/v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}";
    const INHERITED_GRANT: &str = "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}/inherited_to_projects";
    Router::new()
        .route(
            "/v3.0/OS-AGENCY/agencies",
            gated(CreateAgency, post(h::create_agency)),
        )
        .route(
            "/v3.0/OS-AGENCY/agencies",
            gated(ListAgencies, get(h::list_agencies)),
        )
        .route(
            "/v3.0/OS-AGENCY/agencies/{agency_id}",
            gated(ShowAgency, get(h::show_agency)),
        )
        .route(
            "/v3.0/OS-AGENCY/agencies/{agency_id}",
            gated(UpdateAgency, put(h::update_agency)),
        )
        .route(
            "/v3.0/OS-AGENCY/agencies/{agency_id}",
            gated(DeleteAgency, delete(h::delete_agency)),
        )
        .route(
            "/v3/roles",
            gated(KeystoneListPermissions, get(h::list_roles)),
        )
        .route(
            "/v3/projects",
            gated(KeystoneListProjects, get(h::list_projects)),
        )
        .route(
            PROJECT_GRANT,
            gated(AssociateAgencyWithProjectPermission, put(h::project_grant)),
        )
        .route(
            PROJECT_GRANT,
            gated(CheckProjectPermissionForAgency, head(h::project_grant)),
        )
        .route(
            PROJECT_GRANT,
            gated(RemoveProjectPermissionFromAgency, delete(h::project_grant)),
        )
        .route(
            "/v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles",
            gated(ListProjectPermissionsForAgency, get(h::list_project_grants)),
        )
        .route(
            DOMAIN_GRANT,
            gated(AssociateAgencyWithDomainPermission, put(h::domain_grant)),
        )
        .route(
            DOMAIN_GRANT,
            gated(CheckDomainPermissionForAgency, head(h::domain_grant)),
        )
        .route(
            DOMAIN_GRANT,
            gated(RemoveDomainPermissionFromAgency, delete(h::domain_grant)),
        )
        .route(
            "/v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles",
            gated(ListDomainPermissionsForAgency, get(h::list_domain_grants)),
        )
        .route(
            INHERITED_GRANT,
            gated(
                AssociateAgencyWithAllProjectsPermission,
                put(h::all_projects_grant),
            ),
        )
        .route(
            INHERITED_GRANT,
            gated(
                CheckAllProjectsPermissionForAgency,
                head(h::all_projects_grant),
            ),
        )
        .route(
            INHERITED_GRANT,
            gated(
                RemoveAllProjectsPermissionFromAgency,
                delete(h::all_projects_grant),
            ),
        )
        .route(
            "/v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/inherited_to_projects",
            gated(
                ListAllProjectsPermissionsForAgency,
                get(h::list_all_projects_grants),
            ),
        )
        .route(
            "/v3.0/OS-PERMISSION/role-assignments",
            gated(
                ShowDomainRoleAssignments,
                get(role_assignments::show_domain_role_assignments),
            ),
        )
}
