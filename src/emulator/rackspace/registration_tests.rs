//! An agent registered through the documented API, driven over HTTP as a
//! real agent process would: it reads its own events, decrypts with its own
//! key, and reports; the emulator never reports for it.

use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Encrypt, RsaPrivateKey};
use serde_json::{Value, json};

use super::*;
use crate::emulator::{self, EmulatorConfig};
use crate::provider::rackspace::PublicKey;
use crate::provider::rackspace::crypto::encrypt_passphrase;
use crate::provider::rackspace::wire::events;

struct Tenant {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Tenant {
    async fn sign_in(emulator: &emulator::RunningEmulator) -> Self {
        let c = &emulator.config().rackspace;
        let base = format!("{}/v2/{}", emulator.base_url(), c.tenant_id);
        let http = reqwest::Client::new();
        let auth = json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": c.username, "apiKey": c.api_key}}});
        let answer: Value = http
            .post(format!("{}/v2.0/tokens", emulator.base_url()))
            .json(&auth)
            .send()
            .await
            .expect("identity answers")
            .json()
            .await
            .expect("a token");
        let token = answer["access"]["token"]["id"]
            .as_str()
            .expect("token id")
            .to_string();
        Self { http, base, token }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", &self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("an answer");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }
}

fn registration(key: &RsaPrivateKey) -> Value {
    json!({
        "name": "web-1", "version": "2.0.0",
        "host": {"flavor": "nova", "region": "DFW", "machine": {"id": "machine-web-1"},
                 "os": {"name": "Linux", "version": "6", "architecture": "x86_64"},
                 "fingerprint": "f0", "addresses": [{"version": 4, "addr": "10.0.0.5"}]},
        "rsa_public_key": {"modulus": key.n().to_str_radix(16), "exponent": "10001"},
        "vault": {"use_internal": false}
    })
}

#[tokio::test]
async fn a_registered_agent_reads_its_events_and_reports_itself() {
    let emulator = emulator::start(EmulatorConfig::default())
        .await
        .expect("the emulator starts");
    let tenant = Tenant::sign_in(&emulator).await;
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("a keypair");

    let (status, agent) = tenant
        .send(reqwest::Method::POST, "/agents", Some(registration(&key)))
        .await;
    assert_eq!(status, 201, "{agent}");
    let id = agent["id"].as_str().expect("an id").to_string();
    assert!(
        agent["password"].as_str().is_some_and(|p| !p.is_empty()),
        "{agent}"
    );
    assert_eq!(agent["vault"]["encrypted"], json!(false));
    assert_eq!(agent["host"]["machine"]["id"], json!("machine-web-1"));

    // coffer's request, encrypted for the agent's public key.
    let public = PublicKey {
        modulus_hex: agent["rsa_public_key"]["modulus"]
            .as_str()
            .expect("modulus")
            .into(),
        exponent_hex: "10001".into(),
    };
    let hex = encrypt_passphrase(&public, "correct horse").expect("encrypted");
    let body = json!({"old_encrypted_password_hex": null, "new_encrypted_password_hex": hex});
    let requests = format!("/agents/{id}/vault-encryption-requests");
    let (status, _) = tenant
        .send(reqwest::Method::POST, &requests, Some(body))
        .await;
    assert_eq!(status, 202);

    // The emulator does not report for a real agent.
    tokio::time::sleep(super::super::agent_sim::POLL * 6).await;
    let (_, listed) = tenant
        .send(reqwest::Method::GET, &format!("/agents/{id}/events"), None)
        .await;
    let event = listed["events"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["event"] == events::ENABLE))
        .cloned()
        .expect("the enable event");
    let request_id = event["request_id"]
        .as_str()
        .expect("request id")
        .to_string();
    let result = format!("{requests}/{request_id}");
    let (status, _) = tenant.send(reqwest::Method::GET, &result, None).await;
    assert_eq!(status, 404, "reported by someone other than the agent");

    // The agent decrypts with its own key and reports (seed 000).
    let cipher = hex::decode(event["encrypted_password_hex"].as_str().expect("hex")).expect("hex");
    let plain = key.decrypt(Pkcs1v15Encrypt, &cipher).expect("decrypts");
    assert_eq!(plain, b"correct horse");
    let report = json!({"action": "enabled", "succeeded": true});
    let (status, _) = tenant
        .send(reqwest::Method::POST, &result, Some(report))
        .await;
    assert_eq!(status, 204);
    let (_, shown) = tenant.send(reqwest::Method::GET, &result, None).await;
    assert_eq!(shown["succeeded"], json!(true));
    let (_, agent) = tenant
        .send(reqwest::Method::GET, &format!("/agents/{id}"), None)
        .await;
    assert_eq!(agent["vault"]["encrypted"], json!(true));

    let path = format!("/agents/{id}");
    assert_eq!(
        tenant.send(reqwest::Method::DELETE, &path, None).await.0,
        204
    );
    assert_eq!(tenant.send(reqwest::Method::GET, &path, None).await.0, 404);
    assert_eq!(
        tenant.send(reqwest::Method::DELETE, &path, None).await.0,
        404
    );
}

#[tokio::test]
async fn the_admin_registered_agent_is_still_simulated() {
    let emulator = emulator::start(EmulatorConfig::default())
        .await
        .expect("the emulator starts");
    let id = emulator.config().rackspace.agent_id.clone();
    let rackspace = emulator.rackspace().clone();
    let agents = lock(&rackspace.agents);
    assert!(agents.get(&id).expect("the start agent").simulated());
}

#[test]
fn a_registration_without_a_usable_key_is_refused() {
    let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).expect("a keypair");
    let mut body = registration(&key);
    body["rsa_public_key"]["modulus"] = json!("not hex");
    assert!(matches!(parse(&body), Err(StoreError::BadRequest(m)) if m.contains("modulus")));
    let mut body = registration(&key);
    body["host"] = json!({});
    assert!(
        matches!(parse(&body), Err(StoreError::BadRequest(m)) if m.contains("host.machine.id"))
    );
    let read = parse(&registration(&key)).expect("a good registration");
    assert_eq!(read.public_key.e().to_str_radix(10), "65537");
}
