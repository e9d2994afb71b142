"""Huawei's CBR SDK against the emulator over HTTPS, verifying the
certificate with the emulator's CA (`HttpConfig.ssl_ca_cert`), never with
verification turned off: the emulator's TLS is what a real client accepts.
Run through scripts/python-tests.sh.
"""

import certifi
import pytest

import coffer_emulator
from huaweicloudsdkcbr.v1 import (
    BillingCreate,
    CbrClient,
    CreateVaultRequest,
    ListVaultRequest,
    ShowVaultRequest,
    VaultCreate,
    VaultCreateReq,
)
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import SslHandShakeException
from huaweicloudsdkcore.http.http_config import HttpConfig

PROJECT_ID = "0123456789abcdef0123456789abcdef"
AK = "AKSDKTEST0000000000"
SK = "SKSDKTEST000000000000000000000000000000"


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    yield from coffer_emulator.run_tls(tmp_path_factory, [
        "--project-id", PROJECT_ID,
        "--access-key", AK,
        "--secret-key", SK,
    ])


def cbr(endpoint, ca_file):
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = False
    config.ssl_ca_cert = ca_file
    return (
        CbrClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(AK, SK, PROJECT_ID))
        .with_endpoint(endpoint)
        .build()
    )


def test_a_vault_is_made_and_read_over_https_with_the_emulators_ca(tls):
    client = cbr(tls["url"], tls["caFile"])
    vault = VaultCreate(
        name="sdk-https",
        billing=BillingCreate(
            consistent_level="crash_consistent",
            object_type="server",
            protect_type="backup",
            size=100,
            charging_mode="post_paid",
        ),
        resources=[],
    )
    created = client.create_vault(CreateVaultRequest(body=VaultCreateReq(vault=vault))).vault
    shown = client.show_vault(ShowVaultRequest(vault_id=created.id)).vault
    assert shown.name == "sdk-https"
    assert client.list_vault(ListVaultRequest(name="sdk-https")).count == 1


def test_the_sdk_refuses_the_certificate_without_the_ca(tls):
    # Verification is on: with only the public roots the emulator's
    # certificate is refused, so the test above passed because it verified.
    with pytest.raises(SslHandShakeException):
        cbr(tls["url"], certifi.where()).list_vault(ListVaultRequest(limit=1))
