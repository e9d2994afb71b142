"""Drives the emulator's IAM agencies with Huawei's official Python SDK
(`huaweicloudsdkiam`): create by trust name and id with every duration
form, show, list by name, update with seed 004's body, the documented
errors, and grants at project, domain and all-projects scope.
Run through scripts/python-tests.sh.
"""

import urllib.error
import urllib.request

import pytest

import coffer_emulator
from coffer_emulator import admin
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkiam.v3 import (
    AgencyTokenAssumerole,
    AgencyTokenAuth,
    AgencyTokenIdentity,
    AgencyTokenScope,
    AgencyTokenScopeProject,
    AssociateAgencyWithAllProjectsPermissionRequest,
    AssociateAgencyWithDomainPermissionRequest,
    AssociateAgencyWithProjectPermissionRequest,
    CheckAllProjectsPermissionForAgencyRequest,
    CheckDomainPermissionForAgencyRequest,
    CheckProjectPermissionForAgencyRequest,
    CreateAgencyOption,
    CreateAgencyRequest,
    CreateAgencyRequestBody,
    DeleteAgencyRequest,
    IamClient,
    KeystoneCreateAgencyTokenRequest,
    KeystoneCreateAgencyTokenRequestBody,
    KeystoneListPermissionsRequest,
    KeystoneListProjectsRequest,
    ListAgenciesRequest,
    ListAllProjectsPermissionsForAgencyRequest,
    ListDomainPermissionsForAgencyRequest,
    ListProjectPermissionsForAgencyRequest,
    RemoveAllProjectsPermissionFromAgencyRequest,
    RemoveDomainPermissionFromAgencyRequest,
    RemoveProjectPermissionFromAgencyRequest,
    ShowAgencyRequest,
    UpdateAgencyOption,
    UpdateAgencyRequest,
    UpdateAgencyRequestBody,
)

PROJECT_ID = "0123456789abcdef0123456789abcdef"
DOMAIN_ID = "fedcba9876543210fedcba9876543210"
REGION = "cn-north-4"
AK = "AKSDKIAM00000000000"
SK = "SKSDKIAM000000000000000000000000000000000"
# The emulator's partner accounts (src/emulator/huawei/iam_agency/catalog.rs).
TRUST_NAME = "central-ops"
TRUST_ID = "3ebe1024db46485cb02ef08d3c348477"
OTHER_NAME = "partner-account"
OTHER_ID = "35d7706cedbc49a18df0783d00269c20"







@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    yield from coffer_emulator.run(tmp_path_factory, [
        "--project-id", PROJECT_ID,
        "--domain-id", DOMAIN_ID,
        "--region", REGION,
        "--access-key", AK,
        "--secret-key", SK,
    ])


def iam(endpoint):
    return (
        IamClient.new_builder()
        .with_credentials(GlobalCredentials(AK, SK, DOMAIN_ID))
        .with_endpoint(endpoint)
        .build()
    )


def create(client, name, **fields):
    option = CreateAgencyOption(name=name, domain_id=DOMAIN_ID, **fields)
    body = CreateAgencyRequestBody(agency=option)
    return client.create_agency(CreateAgencyRequest(body=body)).agency


@pytest.mark.parametrize(
    "duration, hours",
    [("FOREVER", "FOREVER"), ("ONEDAY", "24"), (20, "480"), ("20", "480"), (None, None)],
)
def test_durations_go_in_as_days_and_come_back_as_hours(endpoint, duration, hours):
    client = iam(endpoint)
    name = f"dur-{type(duration).__name__}-{duration}"
    created = create(client, name, trust_domain_name=TRUST_NAME, duration=duration)
    assert created.duration == hours
    assert created.trust_domain_id == TRUST_ID
    assert (created.expire_time is None) == (hours in ("FOREVER", None))


def test_create_by_id_show_and_list_by_name(endpoint):
    client = iam(endpoint)
    created = create(client, "by-id", trust_domain_id=OTHER_ID, description="d")
    shown = client.show_agency(ShowAgencyRequest(agency_id=created.id)).agency
    assert (shown.name, shown.trust_domain_name, shown.description) == ("by-id", OTHER_NAME, "d")
    assert shown.domain_id == DOMAIN_ID
    listed = client.list_agencies(ListAgenciesRequest(domain_id=DOMAIN_ID, name="by-id")).agencies
    assert [a.id for a in listed] == [created.id]


def test_update_takes_seed_004_body(endpoint):
    client = iam(endpoint)
    created = create(client, "seed-004", trust_domain_name=TRUST_NAME, description="old")
    option = UpdateAgencyOption(
        trust_domain_id=OTHER_ID, trust_domain_name=OTHER_NAME, description="111111"
    )
    request = UpdateAgencyRequest(agency_id=created.id, body=UpdateAgencyRequestBody(agency=option))
    updated = client.update_agency(request).agency
    assert (updated.trust_domain_id, updated.description) == (OTHER_ID, "111111")
    sent = admin(endpoint, "/_emulator/requests?operation=UpdateAgency")["requests"][-1]
    assert sent["body"] == {"agency": {
        "trust_domain_id": OTHER_ID, "trust_domain_name": OTHER_NAME, "description": "111111",
    }}


def test_trust_id_without_name_is_refused_on_update(endpoint):
    client = iam(endpoint)
    created = create(client, "half-pair", trust_domain_name=TRUST_NAME)
    option = UpdateAgencyOption(trust_domain_id=OTHER_ID)
    request = UpdateAgencyRequest(agency_id=created.id, body=UpdateAgencyRequestBody(agency=option))
    with pytest.raises(ClientRequestException) as refused:
        client.update_agency(request)
    assert refused.value.status_code == 400


def test_duplicate_name_is_409(endpoint):
    client = iam(endpoint)
    create(client, "twice", trust_domain_name=TRUST_NAME)
    with pytest.raises(ClientRequestException) as conflict:
        create(client, "twice", trust_domain_name=TRUST_NAME)
    assert conflict.value.status_code == 409


def test_unknown_trust_domain_is_404_trust_domain_not_found(endpoint):
    with pytest.raises(ClientRequestException) as missing:
        create(iam(endpoint), "nobody", trust_domain_name="no-such-account")
    assert missing.value.status_code == 404
    assert "TrustDomainNotFound" in (missing.value.error_msg or str(missing.value))


def test_deleted_agency_is_404(endpoint):
    client = iam(endpoint)
    created = create(client, "doomed", trust_domain_name=TRUST_NAME)
    client.delete_agency(DeleteAgencyRequest(agency_id=created.id))
    with pytest.raises(ClientRequestException) as gone:
        client.show_agency(ShowAgencyRequest(agency_id=created.id))
    assert gone.value.status_code == 404


def role_id(client, display_name):
    roles = client.keystone_list_permissions(
        KeystoneListPermissionsRequest(display_name=display_name)
    ).roles
    assert [r.display_name for r in roles] == [display_name]
    return roles[0].id


def test_grants_at_project_domain_and_all_projects(endpoint):
    client = iam(endpoint)
    agency = create(client, "grants", trust_domain_name=TRUST_NAME).id
    role = role_id(client, "CBR ReadOnlyAccess")
    projects = client.keystone_list_projects(
        KeystoneListProjectsRequest(domain_id=DOMAIN_ID, name=REGION)
    ).projects
    assert [p.id for p in projects] == [PROJECT_ID]

    scopes = [
        (
            AssociateAgencyWithProjectPermissionRequest, CheckProjectPermissionForAgencyRequest,
            ListProjectPermissionsForAgencyRequest, RemoveProjectPermissionFromAgencyRequest,
            {"project_id": PROJECT_ID},
            ("associate_agency_with_project_permission", "check_project_permission_for_agency",
             "list_project_permissions_for_agency", "remove_project_permission_from_agency"),
        ),
        (
            AssociateAgencyWithDomainPermissionRequest, CheckDomainPermissionForAgencyRequest,
            ListDomainPermissionsForAgencyRequest, RemoveDomainPermissionFromAgencyRequest,
            {"domain_id": DOMAIN_ID},
            ("associate_agency_with_domain_permission", "check_domain_permission_for_agency",
             "list_domain_permissions_for_agency", "remove_domain_permission_from_agency"),
        ),
        (
            AssociateAgencyWithAllProjectsPermissionRequest, CheckAllProjectsPermissionForAgencyRequest,
            ListAllProjectsPermissionsForAgencyRequest, RemoveAllProjectsPermissionFromAgencyRequest,
            {"domain_id": DOMAIN_ID},
            ("associate_agency_with_all_projects_permission", "check_all_projects_permission_for_agency",
             "list_all_projects_permissions_for_agency", "remove_all_projects_permission_from_agency"),
        ),
    ]
    for grant_req, check_req, list_req, revoke_req, where, names in scopes:
        grant, check, list_, revoke = (getattr(client, n) for n in names)
        grant(grant_req(agency_id=agency, role_id=role, **where))
        # Set semantics: granting again changes nothing.
        grant(grant_req(agency_id=agency, role_id=role, **where))
        check(check_req(agency_id=agency, role_id=role, **where))
        assert [r.id for r in list_(list_req(agency_id=agency, **where)).roles] == [role]
        revoke(revoke_req(agency_id=agency, role_id=role, **where))
        with pytest.raises(ClientRequestException) as absent:
            check(check_req(agency_id=agency, role_id=role, **where))
        assert absent.value.status_code == 404
        assert list_(list_req(agency_id=agency, **where)).roles == []


def agency_token(client, agency_name):
    identity = AgencyTokenIdentity(
        methods=["assume_role"],
        assume_role=AgencyTokenAssumerole(domain_id=DOMAIN_ID, agency_name=agency_name),
    )
    scope = AgencyTokenScope(project=AgencyTokenScopeProject(id=PROJECT_ID))
    body = KeystoneCreateAgencyTokenRequestBody(auth=AgencyTokenAuth(identity=identity, scope=scope))
    request = KeystoneCreateAgencyTokenRequest(nocatalog="true", body=body)
    return client.keystone_create_agency_token(request).x_subject_token


def vaults_status(endpoint, token):
    request = urllib.request.Request(
        f"{endpoint}/v3/{PROJECT_ID}/vaults", headers={"X-Auth-Token": token}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_agency_token_dies_with_an_update_or_delete(endpoint):
    client = iam(endpoint)
    # The emulator signs in one account, so the agency trusts that account.
    created = create(client, "assumed", trust_domain_id=DOMAIN_ID)
    before = agency_token(client, "assumed")
    assert vaults_status(endpoint, before) == 200
    option = UpdateAgencyOption(description="rotated")
    request = UpdateAgencyRequest(agency_id=created.id, body=UpdateAgencyRequestBody(agency=option))
    client.update_agency(request)
    assert vaults_status(endpoint, before) == 401
    after = agency_token(client, "assumed")
    assert vaults_status(endpoint, after) == 200
    client.delete_agency(DeleteAgencyRequest(agency_id=created.id))
    assert vaults_status(endpoint, after) == 401
