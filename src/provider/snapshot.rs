//! A provider listing kept for a while, so that one paginated list answers
//! the drift checks of many objects instead of one read per object: at
//! 27,000 vaults that is 27 reads an interval instead of 27,000, which is
//! what fits a gateway that throttles each API at about 10 calls a second.
//!
//! One [`Snapshot`] lives inside each provider session's client (so it is
//! keyed by the session, whatever names that session), one per resource
//! type. It never answers for longer than the `max_age` its caller gives,
//! and never for an object this process wrote since the listing started:
//! after a write the object is read by id until a newer listing shows it.
//! It only ever answers "found"; an object a listing lacks is left to a read
//! by id, since what follows from "gone" (a recreate) is a write.
//!
//! Each item is kept packed ([`Packed`]): a listed CBR vault as a struct is
//! a dozen small strings, about 1.4 KiB with the map's slack, and at
//! 90,000 vaults the listing was a third of coffer's memory. Packed it is
//! one allocation of about 200 bytes, unpacked by the one check that asks
//! for it, which is what the copy out of the listing cost before.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ProviderError;

/// What a snapshot says of one id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listed<T> {
    /// A listing younger than the caller's `max_age` shows it so.
    Found(T),
    /// The listing lacks it: it may be gone, or newer than the listing.
    Absent,
    /// The listing cannot tell: it predates a write to this id.
    Unknown,
}

impl<T> Listed<T> {
    /// The object, when the listing shows it.
    pub fn found(self) -> Option<T> {
        match self {
            Self::Found(item) => Some(item),
            Self::Absent | Self::Unknown => None,
        }
    }
}

/// A listing's items by id, each packed as it arrives, so that a listing
/// never exists whole as structs.
pub struct Packed<T> {
    items: HashMap<Box<str>, Box<[u8]>>,
    item: PhantomData<fn() -> T>,
}

impl<T> Default for Packed<T> {
    fn default() -> Self {
        Self {
            items: HashMap::new(),
            item: PhantomData,
        }
    }
}

impl<T> Packed<T> {
    /// Room for `more` items beyond those held.
    pub fn reserve(&mut self, more: usize) {
        self.items.reserve(more);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

impl<T: Serialize + DeserializeOwned> Packed<T> {
    /// Keeps `item` under `id`. An item that does not pack (not one of
    /// coffer's own types can fail to) is left out: its check reads it by id.
    pub fn insert(&mut self, id: &str, item: &T) {
        match postcard::to_allocvec(item) {
            Ok(bytes) => {
                self.items.insert(id.into(), bytes.into_boxed_slice());
            }
            Err(error) => {
                tracing::warn!(%error, id, "a listed item did not pack; it is read by id")
            }
        }
    }

    /// The item under `id`: `None` when absent, `Some(None)` when its
    /// bytes no longer unpack (never, for bytes [`Self::insert`] wrote).
    fn get(&self, id: &str) -> Option<Option<T>> {
        let bytes = self.items.get(id)?;
        Some(postcard::from_bytes(bytes).ok())
    }
}

impl<T: Serialize + DeserializeOwned> FromIterator<(String, T)> for Packed<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(iter: I) -> Self {
        let mut packed = Self::default();
        for (id, item) in iter {
            packed.insert(&id, &item);
        }
        packed
    }
}

/// One listing of a resource type, by id.
struct Listing<T> {
    /// When the list call started: a write after it is not in it.
    started: Instant,
    items: Packed<T>,
}

struct State<T> {
    listing: Option<Listing<T>>,
    /// When the last list was refused as past its cap
    /// ([`ProviderError::ListTooLarge`]): until it is older than the
    /// caller's `max_age`, no list is tried and every id is left to a read
    /// by id. An account larger than the cap then costs a read per object,
    /// not a whole failed listing per object.
    too_large: Option<Instant>,
    /// Ids written by this process, and when the write was made.
    written: HashMap<String, Instant>,
}

/// The last listing of one resource type in one provider session.
pub struct Snapshot<T> {
    state: Mutex<State<T>>,
    /// Held while listing: objects checked at the same moment wait for the
    /// one list rather than each making its own.
    listing: tokio::sync::Mutex<()>,
}

impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                listing: None,
                too_large: None,
                written: HashMap::new(),
            }),
            listing: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T> std::fmt::Debug for Snapshot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        let items = state.listing.as_ref().map_or(0, |l| l.items.len());
        f.debug_struct("Snapshot").field("items", &items).finish()
    }
}

impl<T: Serialize + DeserializeOwned> Snapshot<T> {
    /// `id` as a listing no older than `max_age` shows it; `list` (every
    /// page, by id) is called when there is none, so a zero
    /// `max_age` lists now. Concurrent callers share one list.
    pub async fn lookup<F, Fut>(
        &self,
        id: &str,
        max_age: Duration,
        list: F,
    ) -> Result<Listed<T>, ProviderError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Packed<T>, ProviderError>>,
    {
        if let Some(answer) = self.answer(id, max_age, Instant::now()) {
            return Ok(answer);
        }
        let _one_list = self.listing.lock().await;
        // Another caller may have listed while this one waited.
        if let Some(answer) = self.answer(id, max_age, Instant::now()) {
            return Ok(answer);
        }
        // What has expired answers nobody: let it go before the new
        // listing arrives, rather than hold both (27,000 vaults are MiBs).
        self.lock().listing = None;
        let started = Instant::now();
        let items = match list().await {
            Ok(items) => items,
            Err(error @ ProviderError::ListTooLarge { .. }) => {
                tracing::warn!(
                    %error,
                    "a listing is past its cap: objects are read one by one until the next try"
                );
                self.lock().too_large = Some(started);
                return Ok(Listed::Unknown);
            }
            Err(error) => return Err(error),
        };
        self.store(started, items);
        // The listing just made answers whatever `max_age` (zero: list now).
        Ok(self
            .answer(id, Duration::MAX, Instant::now())
            .unwrap_or(Listed::Unknown))
    }

    /// This process is writing `id` (a create answered, an update, a
    /// delete): no listing started before now answers for it.
    pub fn written(&self, id: &str) {
        self.lock().written.insert(id.to_string(), Instant::now());
    }

    /// What the current listing says of `id`, if it is younger than `max_age`.
    fn answer(&self, id: &str, max_age: Duration, now: Instant) -> Option<Listed<T>> {
        let state = self.lock();
        let refused_lately = state
            .too_large
            .is_some_and(|at| now.saturating_duration_since(at) < max_age);
        if refused_lately {
            return Some(Listed::Unknown);
        }
        let listing = state.listing.as_ref()?;
        if now.saturating_duration_since(listing.started) >= max_age {
            return None;
        }
        if state
            .written
            .get(id)
            .is_some_and(|at| *at >= listing.started)
        {
            return Some(Listed::Unknown);
        }
        Some(match listing.items.get(id) {
            Some(Some(item)) => Listed::Found(item),
            Some(None) => Listed::Unknown,
            None => Listed::Absent,
        })
    }

    /// Keeps a listing that started at `started`; the writes it already
    /// shows are forgotten.
    fn store(&self, started: Instant, items: Packed<T>) {
        let mut state = self.lock();
        state.written.retain(|_, at| *at >= started);
        state.too_large = None;
        state.listing = Some(Listing { started, items });
    }
}

impl<T> Snapshot<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
