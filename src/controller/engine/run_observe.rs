//! Observe: the cloud object by the id coffer holds (or the one the user
//! gave), from the pair's recent listing when it keeps one, else read by
//! id, else found by the pair's lookup under the adoption rules, and what a
//! lost object means.

use std::time::Duration;

use super::{Progress, Read, Run};
use crate::controller::engine::adopt::{self, Decision, Facts};
use crate::controller::engine::error::Error;
use crate::controller::engine::events::{Note, reason};
use crate::controller::engine::external::{External, Lookup, Managed};

/// How many listings a provider session makes, at most, per drift-check
/// interval. A change made outside coffer shows in the next listing and is
/// acted on at the object's next check, so it is found within an interval
/// and a quarter: one listing per interval would make that two intervals.
/// At CBR's 1,000 vaults a page, four listings an interval still cost
/// under 0.005 reads per vault.
pub(super) const LISTINGS_PER_INTERVAL: u32 = 4;

impl<K: Managed, E> Run<'_, K, E> {
    /// The cloud object by the id known so far (or the one the user gave),
    /// else found by the pair's lookup under the adoption rules.
    pub(super) async fn observe<P: External<Kind = K, Env = E>>(
        &mut self,
        ext: &P,
        progress: &mut Progress<K::AtProvider>,
        how: Read,
    ) -> Result<Option<P::Observed>, Error> {
        let known = progress.external_id.clone();
        progress.listed = false;
        if let (Some(id), Read::Listing) = (&known, how) {
            let listed = ext.listed(id, self.listing_age()).await;
            let listed = listed.map_err(Error::provider(format!("list the {}s", K::NOUN)))?;
            if let Some(observed) = listed {
                progress.listed = true;
                return Ok(Some(observed));
            }
        }
        if let Some(id) = known.clone().or_else(|| self.policy.external_id.clone()) {
            let read = ext.get(&id).await;
            match read.map_err(Error::provider(format!("read the {}", K::NOUN)))? {
                Some(observed) => return Ok(Some(observed)),
                None if known.is_some() => {
                    progress.external_id = None;
                    progress.in_flight.clear();
                    self.lost(&id).await;
                }
                None => {}
            }
        }
        let searchable = P::LOOKUP != Lookup::None && !self.nothing_to_find::<P>(progress);
        let candidates = match searchable {
            true => ext
                .find()
                .await
                .map_err(Error::provider(format!("look for the {}", K::NOUN)))?,
            false => Vec::new(),
        };
        let facts = Facts {
            lookup: P::LOOKUP,
            observe_only: self.policy.observe_only(),
            noun: K::NOUN,
            name: ext.name(),
            pending_since: progress.create_pending.as_ref().map(|p| p.since.as_str()),
            retry_create: self.policy.retry_create.as_deref(),
        };
        match adopt::decide(&facts, candidates, P::id)? {
            Decision::Adopt(observed) => {
                let how = ext.found_how();
                progress.create_pending = None;
                self.ctx.metrics.acted(K::KIND, "adopt");
                let message = format!("adopted {} {} {how}", K::NOUN, P::id(&observed));
                self.publish(Note::normal(reason::ADOPTED, "Adopt", message))
                    .await;
                Ok(Some(observed))
            }
            Decision::Import(observed) => {
                let message = format!("observing {} {} found by name", K::NOUN, P::id(&observed));
                self.publish(Note::normal(reason::IMPORTED, "Observe", message))
                    .await;
                Ok(Some(observed))
            }
            Decision::Create | Decision::NotFound => Ok(None),
        }
    }

    /// How old a listing may be to answer this object's drift check: a
    /// part of its interval (see [`LISTINGS_PER_INTERVAL`]).
    fn listing_age(&self) -> Duration {
        let every = self
            .policy
            .poll_interval
            .unwrap_or(self.ctx.timing.resync_interval);
        every / LISTINGS_PER_INTERVAL
    }

    /// A search by ownership tag can only find what coffer created for this
    /// object, and a fresh object has had nothing created for it: the search
    /// would cost a list call per new object and find nothing. A name
    /// search is still made, since a name can be taken by a stranger, and
    /// observing only needs it to import.
    fn nothing_to_find<P: External<Kind = K, Env = E>>(
        &self,
        progress: &Progress<K::AtProvider>,
    ) -> bool {
        self.fresh
            && P::LOOKUP == Lookup::OwnershipTag
            && !self.policy.observe_only()
            && self.policy.external_id.is_none()
            && progress.create_pending.is_none()
    }

    /// The id in status names an object the provider no longer has.
    async fn lost(&mut self, id: &str) {
        let what = match self.policy.observe_only() {
            true => "observing only, so coffer does not create it",
            false => "creating it again",
        };
        self.ctx.metrics.acted(K::KIND, "recreate");
        let message = format!(
            "{} {id} no longer exists at the provider (deleted outside coffer); {what}",
            K::NOUN
        );
        self.publish(Note::warning(K::MISSING_REASON, "Observe", message))
            .await;
    }
}
