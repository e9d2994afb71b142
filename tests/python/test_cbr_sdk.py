"""Drives `coffer-dev emulator` with Huawei's official Python SDK.

The SDK is the reference client: if it signs, serializes and deserializes
against the emulator without complaint, the emulator's wire shapes are the
real ones. Run through scripts/python-tests.sh.
"""

import json
import time
import urllib.request
import uuid

import pytest

import coffer_emulator
from coffer_emulator import admin
from huaweicloudsdkcbr.v1 import (
    BillingCreate,
    BillingUpdate,
    CbrClient,
    CreateVaultRequest,
    DeleteVaultRequest,
    ListVaultRequest,
    ShowVaultRequest,
    Tag,
    UpdateVaultRequest,
    VaultCreate,
    VaultCreateReq,
    VaultUpdate,
    VaultUpdateReq,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkiam.v3 import (
    AuthScope,
    AuthScopeProject,
    IamClient,
    KeystoneCreateUserTokenByPasswordRequest,
    KeystoneCreateUserTokenByPasswordRequestBody,
    PwdAuth,
    PwdIdentity,
    PwdPassword,
    PwdPasswordUser,
    PwdPasswordUserDomain,
)

PROJECT_ID = "0123456789abcdef0123456789abcdef"
DOMAIN_ID = "fedcba9876543210fedcba9876543210"
DOMAIN_NAME = "sdk-account"
REGION = "cn-north-4"
AK = "AKSDKTEST0000000000"
SK = "SKSDKTEST000000000000000000000000000000"
USERNAME = "sdk-user"
PASSWORD = "sdk-password"
# Long enough that a loaded machine does not outrun it between two calls.
DELETE_DELAY_S = 2.0







@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    yield from coffer_emulator.run(tmp_path_factory, [
        "--project-id", PROJECT_ID,
        "--domain-id", DOMAIN_ID,
        "--domain-name", DOMAIN_NAME,
        "--region", REGION,
        "--access-key", AK,
        "--secret-key", SK,
        "--username", USERNAME,
        "--password", PASSWORD,
        "--delete-delay", f"{int(DELETE_DELAY_S * 1000)}ms",
        "--association-delay", "1s",
    ])


def cbr(endpoint, sk=SK):
    return (
        CbrClient.new_builder()
        .with_credentials(BasicCredentials(AK, sk, PROJECT_ID))
        .with_endpoint(endpoint)
        .build()
    )


def create_vault(client, name):
    vault = VaultCreate(
        name=name,
        billing=BillingCreate(
            consistent_level="crash_consistent",
            object_type="server",
            protect_type="backup",
            size=100,
            charging_mode="post_paid",
        ),
        resources=[],
        tags=[Tag(key="k8s-uid", value=str(uuid.uuid4()))],
    )
    return client.create_vault(CreateVaultRequest(body=VaultCreateReq(vault=vault))).vault


def test_vault_lifecycle_through_the_sdk(endpoint):
    client = cbr(endpoint)
    created = create_vault(client, "sdk-vault")
    assert created.billing.status == "available"
    assert created.billing.size == 100
    assert created.enterprise_project_id == "0"
    assert created.project_id == PROJECT_ID

    shown = client.show_vault(ShowVaultRequest(vault_id=created.id)).vault
    assert shown.name == "sdk-vault"
    assert shown.tags[0].key == "k8s-uid"
    assert shown.created_at == created.created_at

    create_vault(client, "sdk-vault-other")
    listed = client.list_vault(ListVaultRequest(name="sdk-vault", limit=10, offset=0))
    # The name filter is fuzzy on purpose: both vaults match "sdk-vault".
    assert listed.count == 2
    assert {v.name for v in listed.vaults} == {"sdk-vault", "sdk-vault-other"}
    assert (listed.limit, listed.offset) == (10, 0)


def test_update_sends_exactly_the_seed_example(endpoint):
    client = cbr(endpoint)
    vault_id = create_vault(client, "seed-003").id
    before = len(admin(endpoint, "/_emulator/requests?operation=UpdateVault")["requests"])

    update = VaultUpdate(billing=BillingUpdate(size=200), name="vault_name02")
    updated = client.update_vault(
        UpdateVaultRequest(vault_id=vault_id, body=VaultUpdateReq(vault=update))
    ).vault
    assert (updated.name, updated.billing.size) == ("vault_name02", 200)

    requests = admin(endpoint, "/_emulator/requests?operation=UpdateVault")["requests"][before:]
    assert len(requests) == 1
    assert requests[0]["method"] == "PUT"
    assert requests[0]["path"] == f"/v3/{PROJECT_ID}/vaults/{vault_id}"
    assert requests[0]["body"] == {"vault": {"billing": {"size": 200}, "name": "vault_name02"}}
    assert requests[0]["status"] == 200


def test_deleted_vault_is_gone_after_the_delay(endpoint):
    client = cbr(endpoint)
    vault_id = create_vault(client, "sdk-doomed").id
    client.delete_vault(DeleteVaultRequest(vault_id=vault_id))
    shown = client.show_vault(ShowVaultRequest(vault_id=vault_id)).vault
    assert shown.billing.status == "deleting"

    time.sleep(DELETE_DELAY_S + 0.2)
    with pytest.raises(ClientRequestException) as gone:
        client.show_vault(ShowVaultRequest(vault_id=vault_id))
    assert gone.value.status_code == 404
    assert gone.value.error_code == "BackupService.6105"


def test_wrong_secret_key_is_refused(endpoint):
    with pytest.raises(ClientRequestException) as refused:
        cbr(endpoint, sk="WRONG" + SK[5:]).list_vault(ListVaultRequest(limit=1))
    assert refused.value.status_code == 401
    assert refused.value.error_code == "APIGW.0301"


def test_token_from_the_iam_sdk_authorizes_cbr(endpoint):
    iam = (
        IamClient.new_builder()
        .with_credentials(GlobalCredentials(AK, SK, DOMAIN_ID))
        .with_endpoint(endpoint)
        .build()
    )
    body = KeystoneCreateUserTokenByPasswordRequestBody(
        auth=PwdAuth(
            identity=PwdIdentity(
                methods=["password"],
                password=PwdPassword(
                    user=PwdPasswordUser(
                        domain=PwdPasswordUserDomain(name=DOMAIN_NAME),
                        name=USERNAME,
                        password=PASSWORD,
                    )
                ),
            ),
            scope=AuthScope(project=AuthScopeProject(name=REGION)),
        )
    )
    issued = iam.keystone_create_user_token_by_password(
        KeystoneCreateUserTokenByPasswordRequest(nocatalog="true", body=body)
    )
    assert issued.token.project.id == PROJECT_ID
    assert issued.token.catalog is None
    token = issued.x_subject_token
    assert token

    request = urllib.request.Request(
        f"{endpoint}/v3/{PROJECT_ID}/vaults?limit=1", headers={"X-Auth-Token": token}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert "count" in json.load(response)

    body.auth.identity.password.user.password = "not-the-password"
    with pytest.raises(ClientRequestException) as refused:
        iam.keystone_create_user_token_by_password(
            KeystoneCreateUserTokenByPasswordRequest(body=body)
        )
    assert refused.value.status_code == 401
