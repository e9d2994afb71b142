//! The simulated agent: a background task that, for every online agent,
//! reads new vault-encryption events, decrypts the passphrases with the
//! agent's private key, waits the agent's report delay, and reports the
//! result through seed 000's endpoint over HTTP, as a real agent would.
//! An offline agent reads nothing; `failReports` makes it report failure.
//! Only agents the emulator registered itself (at start or through the
//! admin API) are simulated: one registered through `POST agents` holds its
//! own private key and reports for itself.

use std::sync::Weak;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::state::RackspaceState;
use super::store::Kind;
use crate::emulator::common::lock;
use crate::provider::rackspace::wire::events;

/// How often the simulated agents look at their events.
pub const POLL: Duration = Duration::from_millis(100);

/// A result the agent will report once `due`.
#[derive(Clone, Debug)]
struct Job {
    agent_id: String,
    request_id: String,
    kind: Kind,
    succeeded: bool,
    /// The passphrase the agent holds after a successful report.
    passphrase: Option<String>,
    due: Instant,
}

/// Runs the simulated agents until the emulator's state is gone.
pub fn spawn(rackspace: Weak<RackspaceState>, base_url: String) -> JoinHandle<()> {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut jobs: Vec<Job> = Vec::new();
        loop {
            tokio::time::sleep(POLL).await;
            let Some(rackspace) = rackspace.upgrade() else {
                return;
            };
            jobs.extend(read_new_events(&rackspace, Instant::now()));
            let mut waiting = Vec::new();
            for job in jobs.drain(..) {
                let online = lock(&rackspace.agents)
                    .get(&job.agent_id)
                    .is_ok_and(|a| a.behaviour.online);
                if job.due > Instant::now() || !online {
                    waiting.push(job);
                    continue;
                }
                if !report(&rackspace, &http, &base_url, &job).await {
                    waiting.push(job);
                }
            }
            jobs = waiting;
        }
    })
}

/// Reads each online agent's unread encryption events and decides what it
/// will report for each.
fn read_new_events(rackspace: &RackspaceState, now: Instant) -> Vec<Job> {
    let mut agents = lock(&rackspace.agents);
    let mut jobs = Vec::new();
    for id in agents.ids() {
        let Ok(agent) = agents.get_mut(&id) else {
            continue;
        };
        // An agent registered through the API is a real one: it reads its
        // events and reports itself.
        if !agent.behaviour.online || !agent.simulated() {
            continue;
        }
        let unread: Vec<Value> = agent.events[agent.read_events..].to_vec();
        agent.read_events = agent.events.len();
        // The passphrase as it will be once earlier jobs are applied.
        let mut current = agent.passphrase.clone();
        for event in unread {
            let Some(request_id) = event["request_id"].as_str().map(str::to_owned) else {
                continue;
            };
            let text = |key: &str| event[key].as_str().and_then(|h| agent.decrypt(h));
            let (kind, new, old_ok) = match event["event"].as_str() {
                Some(events::ENABLE) => (Kind::Enable, text("encrypted_password_hex"), true),
                Some(events::CHANGE) => {
                    let old = text("old_encrypted_password_hex");
                    (
                        Kind::Change,
                        text("new_encrypted_password_hex"),
                        old.is_some() && old == current,
                    )
                }
                _ => continue,
            };
            let succeeded = new.is_some() && old_ok && !agent.behaviour.fail_reports;
            if succeeded {
                current = new.clone();
            }
            jobs.push(Job {
                agent_id: id.clone(),
                request_id,
                kind,
                succeeded,
                passphrase: new,
                due: now + Duration::from_millis(agent.behaviour.report_delay_ms),
            });
        }
    }
    jobs
}

/// Seed 000 over HTTP. True when the report is done with (accepted, or
/// refused for good); false to try again on the next poll.
async fn report(
    rackspace: &RackspaceState,
    http: &reqwest::Client,
    base_url: &str,
    job: &Job,
) -> bool {
    let (token, _) = rackspace.issue_token(Timestamp::now());
    let tenant = &rackspace.account.tenant_id;
    let url = format!(
        "{base_url}/v2/{tenant}/agents/{}/vault-encryption-requests/{}",
        job.agent_id, job.request_id
    );
    let sent = http
        .post(url)
        .header("X-Auth-Token", token)
        .header("X-Agent-Id", &job.agent_id)
        .json(&json!({"action": job.kind.action(), "succeeded": job.succeeded}))
        .send()
        .await;
    let status = match sent {
        Ok(resp) => resp.status().as_u16(),
        Err(e) => {
            tracing::debug!(error = %e, "the simulated agent could not report; retrying");
            return false;
        }
    };
    if status == 204
        && job.succeeded
        && let Ok(agent) = lock(&rackspace.agents).get_mut(&job.agent_id)
    {
        agent.passphrase = job.passphrase.clone();
    }
    // 5xx and 429 (injected faults) are retried; anything else is final.
    !(status >= 500 || status == 429)
}
