//! No credential anywhere it should not be. Once the whole binary has run
//! (an `atexit` hook that runs before the control plane stops), every
//! credential the tests used is looked for in the operator's and the
//! emulators' logs (captured from this process at debug level), in every
//! Event, and in the status of every coffer object. A credential found
//! fails the run: the process exits non-zero after naming where.
//!
//! The credentials are every value of every Secret in the cluster (the
//! tests' credentials and passphrases, and coffer's own copies), and what
//! the tests [`remember`]: the emulators' keys, passwords and issued tokens.
//! Values shorter than [`MIN_LEN`] are left out: a five-letter password
//! such as `wrong` is also an English word in a log line.

use std::collections::BTreeSet;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use k8s_openapi::api::core::v1::{Event as CoreEvent, Secret};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};

/// The shortest value looked for.
pub const MIN_LEN: usize = 8;

/// Secret keys whose values name someone rather than prove who they are.
const NOT_CREDENTIALS: [&str; 3] = ["username", "userName", "domainName"];

/// coffer's kinds, whose status is searched.
const KINDS: [&str; 4] = ["BackupVault", "BackupShare", "Agency", "ProviderConfig"];

static REMEMBERED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
/// Where this process's logs go, or why they could not be captured (which
/// fails the check: logs nobody reads are logs nobody checked).
static LOG: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The fewest places a check that ran at all searches: the log and at
/// least one Event or status.
pub const MIN_PLACES: usize = 2;

/// Adds a credential a test used outside a Secret (an emulator's key, a
/// token it issued) to those the final check looks for.
pub fn remember(value: &str) {
    if value.len() >= MIN_LEN
        && let Ok(mut remembered) = REMEMBERED.lock()
    {
        remembered.insert(value.to_string());
    }
}

/// Captures this process's logs (the in-process operator's and
/// emulators') at debug level into a file the final check reads.
pub fn capture_logs() {
    let _ = LOG.set(install_log_file());
}

fn install_log_file() -> Result<PathBuf, String> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-logs");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let path = dir.join(format!("e2e-{}.log", std::process::id()));
    let file = File::create(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("coffer=debug,info"))
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .map_err(|e| format!("the log capture could not be installed: {e}"))?;
    Ok(path)
}

/// What one check searched, and what it found there.
pub struct Report {
    pub found: Vec<String>,
    pub credentials: usize,
    pub places: usize,
    pub log_bytes: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} credentials in {} places ({} log bytes)",
            self.credentials, self.places, self.log_bytes
        )
    }
}

/// Where one credential was found.
#[derive(Debug)]
struct Finding {
    /// The credential, shortened so that the report does not leak it again.
    hint: String,
    place: String,
}

fn hint(secret: &str) -> String {
    let head: String = secret.chars().take(3).collect();
    format!("{head}… ({} characters)", secret.chars().count())
}

/// The final check, on the control plane `client` reaches. Any place it
/// cannot read is an error, never an empty place: a check that skipped a
/// place would pass for the wrong reason.
pub async fn check(client: kube::Client) -> Result<Report, String> {
    let secrets = credentials(&client).await?;
    let mut places: Vec<(String, String)> = Vec::new();
    let path = match LOG.get() {
        Some(Ok(path)) => path,
        Some(Err(why)) => return Err(why.clone()),
        None => return Err("the logs were never captured".into()),
    };
    let log = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the log {}: {e}", path.display()))?;
    let log_bytes = log.len();
    places.push((format!("the log {}", path.display()), log));
    let listing = |what: &'static str| move |e: kube::Error| format!("cannot list {what}: {e}");
    let events: Api<Event> = Api::all(client.clone());
    let listed = events
        .list(&ListParams::default())
        .await
        .map_err(listing("Events"))?;
    for e in listed.items {
        let place = format!(
            "Event {}/{}",
            e.metadata.namespace.unwrap_or_default(),
            e.metadata.name.unwrap_or_default()
        );
        places.push((
            place,
            format!(
                "{} {}",
                e.note.unwrap_or_default(),
                e.reason.unwrap_or_default()
            ),
        ));
    }
    let core: Api<CoreEvent> = Api::all(client.clone());
    let listed = core
        .list(&ListParams::default())
        .await
        .map_err(listing("core Events"))?;
    for e in listed.items {
        let place = format!("core Event {}", e.metadata.name.unwrap_or_default());
        places.push((place, e.message.unwrap_or_default()));
    }
    for kind in KINDS {
        let gvk = GroupVersionKind::gvk("coffer.dev", "v1alpha1", kind);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ApiResource::from_gvk(&gvk));
        let listed = api
            .list(&ListParams::default())
            .await
            .map_err(listing(kind))?;
        for obj in listed.items {
            let place = format!(
                "the status of {kind} {}/{}",
                obj.metadata.namespace.clone().unwrap_or_default(),
                obj.metadata.name.clone().unwrap_or_default()
            );
            places.push((place, obj.data["status"].to_string()));
        }
    }
    let mut findings = Vec::new();
    for secret in &secrets {
        for (place, text) in &places {
            if text.contains(secret.as_str()) {
                findings.push(Finding {
                    hint: hint(secret),
                    place: place.clone(),
                });
            }
        }
    }
    let found = findings
        .into_iter()
        .map(|f| format!("credential {} found in {}", f.hint, f.place))
        .collect();
    Ok(Report {
        found,
        credentials: secrets.len(),
        places: places.len(),
        log_bytes,
    })
}

/// Every credential: the values of every Secret in the cluster, and the
/// remembered ones.
async fn credentials(client: &kube::Client) -> Result<BTreeSet<String>, String> {
    let mut found = REMEMBERED
        .lock()
        .map(|r| r.clone())
        .map_err(|_| "the remembered credentials are poisoned".to_string())?;
    let secrets: Api<Secret> = Api::all(client.clone());
    let listed = secrets
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("cannot list Secrets: {e}"))?;
    for secret in listed.items {
        for (key, value) in secret.data.unwrap_or_default() {
            if NOT_CREDENTIALS.contains(&key.as_str()) {
                continue;
            }
            if let Ok(text) = String::from_utf8(value.0) {
                let text = text.trim_end_matches(['\n', '\r']);
                if text.len() >= MIN_LEN {
                    found.insert(text.to_string());
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_does_not_repeat_the_credential() {
        assert_eq!(hint("SKEXAMPLE000"), "SKE… (12 characters)");
    }
}
