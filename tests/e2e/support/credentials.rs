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
static LOG: OnceLock<PathBuf> = OnceLock::new();

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
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-logs");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("e2e-{}.log", std::process::id()));
    let Ok(file) = File::create(&path) else {
        eprintln!("e2e: cannot write {}: logs are not checked", path.display());
        return;
    };
    let installed = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("coffer=debug,info"))
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init();
    if installed.is_ok() {
        let _ = LOG.set(path);
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

/// The final check, on the control plane at `kubeconfig`. Returns what was
/// found and a one-line account of what was searched.
pub async fn check(client: kube::Client) -> (Vec<String>, String) {
    let secrets = credentials(&client).await;
    let mut places: Vec<(String, String)> = Vec::new();
    if let Some(path) = LOG.get() {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        places.push((format!("the log {}", path.display()), text));
    }
    let events: Api<Event> = Api::all(client.clone());
    for e in events
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    {
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
    for e in core
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
    {
        let place = format!("core Event {}", e.metadata.name.unwrap_or_default());
        places.push((place, e.message.unwrap_or_default()));
    }
    for kind in KINDS {
        let gvk = GroupVersionKind::gvk("coffer.dev", "v1alpha1", kind);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &ApiResource::from_gvk(&gvk));
        for obj in api
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
        {
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
    let searched = format!(
        "{} credentials in {} places ({} log bytes)",
        secrets.len(),
        places.len(),
        places.first().map_or(0, |(_, t)| t.len())
    );
    let found = findings
        .into_iter()
        .map(|f| format!("credential {} found in {}", f.hint, f.place))
        .collect();
    (found, searched)
}

/// Every credential: the values of every Secret in the cluster, and the
/// remembered ones.
async fn credentials(client: &kube::Client) -> BTreeSet<String> {
    let mut found = REMEMBERED.lock().map(|r| r.clone()).unwrap_or_default();
    let secrets: Api<Secret> = Api::all(client.clone());
    let listed = secrets.list(&ListParams::default()).await.map(|l| l.items);
    for secret in listed.unwrap_or_default() {
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
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_does_not_repeat_the_credential() {
        assert_eq!(hint("SKEXAMPLE000"), "SKE… (12 characters)");
    }
}
