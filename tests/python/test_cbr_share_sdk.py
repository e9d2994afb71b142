"""Drives `coffer-dev emulator`'s backup sharing with Huawei's official Python
SDK across two projects, each with its own AK/SK: the owner makes a backup
(a vault with a server, a checkpoint) and shares it; the receiver accepts it
into its own vault with seed 001's body, or rejects it; the owner removes
the member. Run through scripts/python-tests.sh.
"""

import time

import pytest

import coffer_emulator
from coffer_emulator import admin
from huaweicloudsdkcbr.v1 import (
    AddMemberRequest,
    AddMembersReq,
    BillingCreate,
    CbrClient,
    CreateCheckpointRequest,
    CreateVaultRequest,
    DeleteMemberRequest,
    ListBackupsRequest,
    ResourceCreate,
    ShowBackupRequest,
    ShowMemberDetailRequest,
    ShowMembersDetailRequest,
    UpdateMember,
    UpdateMemberStatusRequest,
    VaultBackup,
    VaultBackupReq,
    VaultCreate,
    VaultCreateReq,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

OWNER = "0123456789abcdef0123456789abcdef"
OWNER_AK = "AKSDKOWNER000000000"
OWNER_SK = "SKSDKOWNER00000000000000000000000000000"
RECEIVER = "89abcdef0123456789abcdef01234567"
RECEIVER_AK = "AKSDKRECEIVER000000"
RECEIVER_SK = "SKSDKRECEIVER0000000000000000000000000"
SERVER = "7b3f0e7c-4a57-4f0e-9c1a-2d5e8b6a9f10"





@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    yield from coffer_emulator.run(tmp_path_factory, [
        "--project-id", OWNER, "--access-key", OWNER_AK, "--secret-key", OWNER_SK,
        "--peer-project-id", RECEIVER,
        "--peer-access-key", RECEIVER_AK, "--peer-secret-key", RECEIVER_SK,
        "--backup-delay", "500ms",
    ])


def client(endpoint, ak, sk, project):
    return (
        CbrClient.new_builder()
        .with_credentials(BasicCredentials(ak, sk, project))
        .with_endpoint(endpoint)
        .build()
    )


def create_vault(cbr, name, resources):
    billing = BillingCreate(
        consistent_level="crash_consistent", object_type="server",
        protect_type="backup", size=100, charging_mode="post_paid",
    )
    body = VaultCreateReq(vault=VaultCreate(name=name, billing=billing, resources=resources))
    return cbr.create_vault(CreateVaultRequest(body=body)).vault


def make_backup(owner, name):
    """A vault with a server, a checkpoint, and the backup once available."""
    vault = create_vault(owner, name, [ResourceCreate(id=f"{SERVER}-{name}", type="OS::Nova::Server")])
    checkpoint = owner.create_checkpoint(
        CreateCheckpointRequest(body=VaultBackupReq(checkpoint=VaultBackup(vault_id=vault.id)))
    ).checkpoint
    assert checkpoint.status == "protecting"
    deadline = time.monotonic() + 10
    while True:
        backups = owner.list_backups(ListBackupsRequest(checkpoint_id=checkpoint.id)).backups
        assert len(backups) == 1
        if backups[0].status == "available":
            return backups[0]
        assert backups[0].status == "protecting"
        assert time.monotonic() < deadline, "the backup never became available"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def owner(endpoint):
    return client(endpoint, OWNER_AK, OWNER_SK, OWNER)


@pytest.fixture(scope="module")
def receiver(endpoint):
    return client(endpoint, RECEIVER_AK, RECEIVER_SK, RECEIVER)


def test_checkpoint_makes_an_available_server_backup(owner):
    backup = make_backup(owner, "cp")
    assert backup.resource_type == "OS::Nova::Server"
    shown = owner.show_backup(ShowBackupRequest(backup_id=backup.id)).backup
    assert shown.id == backup.id and shown.status == "available"


def test_share_accept_with_seed_001_body(owner, receiver):
    backup = make_backup(owner, "accept")
    added = owner.add_member(AddMemberRequest(backup_id=backup.id, body=AddMembersReq(members=[RECEIVER])))
    assert [m.dest_project_id for m in added.members] == [RECEIVER]
    assert added.members[0].status == "pending"

    listed = owner.show_members_detail(ShowMembersDetailRequest(backup_id=backup.id, status="pending"))
    assert listed.count == 1 and listed.members[0].dest_project_id == RECEIVER

    shared = receiver.list_backups(ListBackupsRequest(own_type="shared", member_status="pending")).backups
    assert backup.id in [b.id for b in shared]

    inbox = create_vault(receiver, "inbox", [])
    answer = receiver.update_member_status(UpdateMemberStatusRequest(
        backup_id=backup.id, member_id=RECEIVER,
        body=UpdateMember(status="accepted", vault_id=inbox.id),
    )).member
    assert answer.status == "accepted" and answer.vault_id == inbox.id
    assert answer.image_id and answer.updated_at

    seen = owner.show_member_detail(ShowMemberDetailRequest(backup_id=backup.id, member_id=RECEIVER)).member
    assert seen.status == "accepted" and seen.image_id == answer.image_id


def test_accepting_needs_a_vault_and_only_the_receiver_answers(owner, receiver):
    backup = make_backup(owner, "rules")
    owner.add_member(AddMemberRequest(backup_id=backup.id, body=AddMembersReq(members=[RECEIVER])))
    with pytest.raises(ClientRequestException) as no_vault:
        receiver.update_member_status(UpdateMemberStatusRequest(
            backup_id=backup.id, member_id=RECEIVER, body=UpdateMember(status="accepted")))
    assert no_vault.value.status_code == 400
    # The vault must be the receiver's own: the owner's is refused.
    owners_vault = create_vault(owner, "owners-vault", [])
    with pytest.raises(ClientRequestException) as foreign_vault:
        receiver.update_member_status(UpdateMemberStatusRequest(
            backup_id=backup.id, member_id=RECEIVER,
            body=UpdateMember(status="accepted", vault_id=owners_vault.id)))
    assert foreign_vault.value.status_code == 400
    with pytest.raises(ClientRequestException) as by_owner:
        owner.update_member_status(UpdateMemberStatusRequest(
            backup_id=backup.id, member_id=RECEIVER, body=UpdateMember(status="rejected")))
    assert by_owner.value.status_code == 400
    with pytest.raises(ClientRequestException) as add_by_receiver:
        receiver.add_member(AddMemberRequest(backup_id=backup.id, body=AddMembersReq(members=[OWNER])))
    assert add_by_receiver.value.status_code in (400, 404)


def test_reject_then_delete_member(owner, receiver):
    backup = make_backup(owner, "reject")
    owner.add_member(AddMemberRequest(backup_id=backup.id, body=AddMembersReq(members=[RECEIVER])))
    answer = receiver.update_member_status(UpdateMemberStatusRequest(
        backup_id=backup.id, member_id=RECEIVER, body=UpdateMember(status="rejected"))).member
    assert answer.status == "rejected" and answer.vault_id is None

    owner.delete_member(DeleteMemberRequest(backup_id=backup.id, member_id=RECEIVER))
    listed = owner.show_members_detail(ShowMembersDetailRequest(backup_id=backup.id))
    assert listed.count == 0 and listed.members == []


def test_more_than_ten_members_in_one_call_is_refused(owner):
    backup = make_backup(owner, "eleven")
    eleven = [f"{i:032x}" for i in range(1, 12)]
    with pytest.raises(ClientRequestException) as refused:
        owner.add_member(AddMemberRequest(backup_id=backup.id, body=AddMembersReq(members=eleven)))
    assert refused.value.status_code == 400
