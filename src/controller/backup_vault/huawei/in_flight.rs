//! Resource associations CBR has not shown yet. CBR associates and
//! dissociates resources asynchronously, and asking again while it works
//! would fail or flap; the engine keeps these keys in `status.inFlight`.

use std::collections::BTreeSet;

use super::calls::Call;
use crate::provider::huawei::cbr::{Vault, VaultCreate};

/// Resource changes coffer asked for and the provider may not show yet:
/// CBR associates and dissociates resources asynchronously, and asking again
/// while it works would fail or flap. The engine keeps the keys in status
/// (`addResource/<id>`, `removeResource/<id>`) and drops them once
/// [`settled`] or too old.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    pub(super) added: BTreeSet<String>,
    pub(super) removed: BTreeSet<String>,
}

const ADD: &str = "addResource/";
const REMOVE: &str = "removeResource/";

impl InFlight {
    /// The resource changes among the engine's in-flight keys.
    pub fn from_keys(keys: &BTreeSet<String>) -> Self {
        let ids = |prefix: &str| {
            keys.iter()
                .filter_map(|k| k.strip_prefix(prefix).map(str::to_owned))
                .collect()
        };
        Self {
            added: ids(ADD),
            removed: ids(REMOVE),
        }
    }

    /// Remembers a resource call (tests; the engine keeps [`awaits`]).
    pub fn record(&mut self, call: &Call) {
        *self = Self::from_keys(
            &awaits(call)
                .into_iter()
                .chain(self.added.iter().map(|id| format!("{ADD}{id}")))
                .chain(self.removed.iter().map(|id| format!("{REMOVE}{id}")))
                .collect(),
        );
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// What `call` leaves in flight until the vault shows it.
pub fn awaits(call: &Call) -> Vec<String> {
    match call {
        Call::AddResources(r) => r.iter().map(|r| format!("{ADD}{}", r.id)).collect(),
        Call::RemoveResources(ids) => ids.iter().map(|id| format!("{REMOVE}{id}")).collect(),
        _ => Vec::new(),
    }
}

/// What a create request leaves in flight: the resources it associates.
pub fn awaits_created(request: &VaultCreate) -> Vec<String> {
    request
        .resources
        .iter()
        .map(|r| format!("{ADD}{}", r.id))
        .collect()
}

/// Whether `vault` shows the effect of in-flight `key`.
pub fn settled(vault: &Vault, key: &str) -> bool {
    let present = |id: &str| vault.resources.iter().any(|r| r.id == id);
    if let Some(id) = key.strip_prefix(ADD) {
        return present(id);
    }
    if let Some(id) = key.strip_prefix(REMOVE) {
        return !present(id);
    }
    true
}
