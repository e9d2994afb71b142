"""Drives the emulator's ShowDomainRoleAssignments (`GET
/v3.0/OS-PERMISSION/role-assignments`) with Huawei's official Python SDK:
an agency's project, domain and all-projects grants in one list, the
subject and scope filters, `is_inherited` on the domain scope, pages of at
most 50, and the documented refusals. Run through scripts/python-tests.sh.
"""

import pytest

import coffer_emulator
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkiam.v3 import (
    AssociateAgencyWithAllProjectsPermissionRequest,
    AssociateAgencyWithDomainPermissionRequest,
    AssociateAgencyWithProjectPermissionRequest,
    KeystoneListPermissionsRequest,
    ShowDomainRoleAssignmentsRequest,
)

from test_iam_sdk import AK, DOMAIN_ID, PROJECT_ID, REGION, SK, TRUST_NAME, create, iam


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    yield from coffer_emulator.run(tmp_path_factory, [
        "--project-id", PROJECT_ID,
        "--domain-id", DOMAIN_ID,
        "--region", REGION,
        "--access-key", AK,
        "--secret-key", SK,
    ])


def role(client, display_name):
    request = KeystoneListPermissionsRequest(display_name=display_name)
    return client.keystone_list_permissions(request).roles[0].id


def assignments(client, **query):
    request = ShowDomainRoleAssignmentsRequest(domain_id=DOMAIN_ID, **query)
    return client.show_domain_role_assignments(request)


def as_tuples(records):
    """(agency, role, scope kind, scope id, inherited) of each record."""
    out = set()
    for r in records:
        kind = "project" if r.scope.project is not None else "domain"
        where = r.scope.project or r.scope.domain
        out.add((r.agency.id, r.role.id, kind, where.id, r.is_inherited))
    return out


@pytest.fixture(scope="module")
def granted(endpoint):
    """An agency with a grant on each scope, and another with one grant."""
    client = iam(endpoint)
    read, full = role(client, "CBR ReadOnlyAccess"), role(client, "CBR FullAccess")
    first = create(client, "ra-first", trust_domain_name=TRUST_NAME).id
    second = create(client, "ra-second", trust_domain_name=TRUST_NAME).id
    client.associate_agency_with_project_permission(AssociateAgencyWithProjectPermissionRequest(
        agency_id=first, project_id=PROJECT_ID, role_id=read))
    client.associate_agency_with_domain_permission(AssociateAgencyWithDomainPermissionRequest(
        agency_id=first, domain_id=DOMAIN_ID, role_id=full))
    client.associate_agency_with_all_projects_permission(
        AssociateAgencyWithAllProjectsPermissionRequest(
            agency_id=first, domain_id=DOMAIN_ID, role_id=read))
    client.associate_agency_with_project_permission(AssociateAgencyWithProjectPermissionRequest(
        agency_id=second, project_id=PROJECT_ID, role_id=full))
    return client, first, second, read, full


def test_one_list_shows_project_domain_and_inherited_grants_of_every_agency(granted):
    client, first, second, read, full = granted
    answer = assignments(client, subject="agency", page=1, per_page=50)
    assert answer.total_num == 4
    assert as_tuples(answer.role_assignments) == {
        (first, read, "project", PROJECT_ID, False),
        (first, full, "domain", DOMAIN_ID, False),
        (first, read, "domain", DOMAIN_ID, True),
        (second, full, "project", PROJECT_ID, False),
    }


def test_subject_agency_id_and_scope_filters(granted):
    client, first, second, read, full = granted
    mine = assignments(client, subject_agency_id=second).role_assignments
    assert as_tuples(mine) == {(second, full, "project", PROJECT_ID, False)}
    inherited = assignments(client, subject="agency", scope="domain", is_inherited=True)
    assert as_tuples(inherited.role_assignments) == {(first, read, "domain", DOMAIN_ID, True)}
    own = assignments(client, subject="agency", scope_domain_id=DOMAIN_ID)
    assert as_tuples(own.role_assignments) == {(first, full, "domain", DOMAIN_ID, False)}
    projects = assignments(client, scope="project", role_id=full).role_assignments
    assert as_tuples(projects) == {(second, full, "project", PROJECT_ID, False)}
    assert assignments(client, subject="user").role_assignments == []


def test_pages_neither_repeat_nor_skip(granted):
    client = granted[0]
    everything = as_tuples(assignments(client, subject="agency").role_assignments)
    seen = set()
    for page in (1, 2, 3):
        answer = assignments(client, subject="agency", page=page, per_page=2)
        assert answer.total_num == 4
        records = as_tuples(answer.role_assignments)
        assert len(records) == (2 if page < 3 else 0)
        assert not records & seen
        seen |= records
    assert seen == everything


@pytest.mark.parametrize("query", [
    {"subject": "agency", "subject_agency_id": "x"},
    {"scope": "project", "scope_domain_id": DOMAIN_ID},
    {"subject": "robot"},
    {"scope": "region"},
    {"page": 1, "per_page": 51},
    {"page": 1},
])
def test_documented_refusals_are_400(granted, query):
    with pytest.raises(ClientRequestException) as refused:
        assignments(granted[0], **query)
    assert refused.value.status_code == 400


def test_another_account_is_403(granted):
    request = ShowDomainRoleAssignmentsRequest(domain_id="0" * 32)
    with pytest.raises(ClientRequestException) as refused:
        granted[0].show_domain_role_assignments(request)
    assert refused.value.status_code == 403
