"""Drives the emulator's Command Center with Commvault's official Python SDK
(`cvpysdk`): `Commcell` login and a refused login, the S3 vault create of
seed 002 and the list through cvpysdk's own authenticated request (it has no
S3-vault class), its `Job` class following the endpoint job to Completed,
token renewal after idle expiry, and logout.
Run through scripts/python-tests.sh.
"""

import time
import urllib.request

import pytest

import coffer_emulator
from coffer_emulator import admin
from cvpysdk.commcell import Commcell
from cvpysdk.exception import SDKException
from cvpysdk.job import Job

USERNAME = "admin"
PASSWORD = "commvault-password"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    yield from coffer_emulator.run(tmp_path_factory, ["--commvault-job-duration", "2s"])


def commcell(base, password=PASSWORD):
    host = base.split("://", 1)[1]
    return Commcell(
        host,
        commcell_username=USERNAME,
        commcell_password=password,
        web_service_url=f"{base}/commandcenter/api",
    )


def counter(base, operation):
    return admin(base, "/_emulator/counters").get(operation, {}).get("total", 0)


def create_body(name):
    return {
        "bucket": {"clientName": name},
        "plan": {"planId": 3, "planName": "s3-plan"},
        "cvs3Endpoints": [{"clientId": 2, "clientName": "mediaagent01"}],
        "owners": [{"userId": 1, "__type__": 13}],
        "rotateKeys": False,
    }


def test_login_carries_a_qsdk_token_and_logout_ends_it(emulator):
    cc = commcell(emulator)
    token = cc._headers["Authtoken"]
    assert token.startswith("QSDK ")
    assert counter(emulator, "CommvaultProbe") >= 1
    cc.logout()
    assert counter(emulator, "CommvaultLogout") == 1
    request = urllib.request.Request(
        f"{emulator}/commandcenter/api/V4/cvS3Stores", headers={"Authtoken": token}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 401


def test_a_wrong_password_is_refused_although_answered_200(emulator):
    with pytest.raises(SDKException) as refused:
        commcell(emulator, password="wrong")
    assert "Invalid Username or Password" in str(refused.value)


def test_an_s3_vault_is_created_listed_and_its_job_followed_to_completed(emulator):
    cc = commcell(emulator)
    # The path as Commvault's own MCP server spells it: case does not matter.
    response = cc.request("POST", "v4/cvs3Store", create_body("sdk-vault"))
    assert response.status_code == 200
    created = response.json()
    assert created["response"]["errorCode"] == 0
    client_id = created["response"]["entity"]["clientId"]
    job_id = created["addEndpointJob"]["jobId"]

    listed = cc.request("GET", "V4/cvS3Stores?hardRefresh=true&start=0&limit=100&fl=overview")
    names = {s["name"]: s["clientId"] for s in listed.json()["CVS3Stores"]}
    assert names["sdk-vault"] == client_id

    job = Job(cc, job_id)
    assert job.status == "Running"
    deadline = time.monotonic() + 30
    while not job.is_finished:
        assert time.monotonic() < deadline, "the endpoint job never finished"
        time.sleep(0.5)
    assert job.status == "Completed"

    again = cc.request("POST", "V4/CVS3Store", create_body("SDK-VAULT"))
    assert again.status_code == 409


def test_an_idle_token_is_renewed_by_the_sdk(emulator):
    cc = commcell(emulator)
    before = counter(emulator, "CommvaultRenewLoginToken")
    expire = urllib.request.Request(
        f"{emulator}/_emulator/commvault/expire-tokens", method="POST"
    )
    urllib.request.urlopen(expire, timeout=5)
    listed = cc.request("GET", "V4/cvS3Stores")
    assert listed.status_code == 200
    assert counter(emulator, "CommvaultRenewLoginToken") == before + 1
    assert cc._headers["Authtoken"].startswith("QSDK ")
