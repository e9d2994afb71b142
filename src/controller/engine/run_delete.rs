//! The engine's side of a deleted object: `Delete` deletes the cloud
//! object and holds the finalizer until the provider no longer has it;
//! `Orphan`, observing only, or a pair whose objects outlive coffer's
//! (`External::KEPT_ON_DELETE`) let go with an Event that says why.

use jiff::Timestamp;
use kube::runtime::controller::Action;

use super::{Progress, Read, Run};
use crate::api::DeletionPolicy;
use crate::controller::engine::context::ReconcileError;
use crate::controller::engine::error::Error;
use crate::controller::engine::events::{Note, reason};
use crate::controller::engine::external::{External, Health, Managed};

impl<K: Managed, E> Run<'_, K, E> {
    /// `Delete` policy: delete the cloud object and hold the finalizer until
    /// the provider no longer has it. `Orphan`, or observing only: let go.
    pub async fn cleanup<P: External<Kind = K, Env = E>>(mut self) -> Result<Action, Error> {
        let mut progress = Progress::of(self.obj, &self.status);
        if self.policy.paused {
            self.report(&progress, None, true).await?;
            return Err(Error::Paused);
        }
        if self.obj.deletion_policy() == DeletionPolicy::Orphan
            || self.policy.observe_only()
            || P::KEPT_ON_DELETE.is_some()
        {
            if let Some(id) = &self.status.external_id {
                self.ctx.metrics.acted(K::KIND, "orphan");
                let why = P::KEPT_ON_DELETE.unwrap_or_else(|| self.why_kept());
                self.publish(Note::normal(
                    reason::ORPHANED,
                    "Delete",
                    format!("left {} {id} at the provider ({why})", K::NOUN),
                ))
                .await;
            }
            // Let go: no status write is to come for this object.
            self.release().await;
            self.ctx.forget(K::KIND, self.obj);
            return Ok(Action::await_change());
        }
        let deadline = self.ctx.timing.reconcile_deadline;
        let result = super::within_deadline(deadline, self.delete::<P>(&mut progress)).await;
        match &result {
            Ok(_) => {
                self.release().await;
                self.ctx.forget(K::KIND, self.obj)
            }
            Err(e) if e.is_waiting() => self.report(&progress, None, true).await?,
            Err(e) => self.report(&progress, Some(e), true).await?,
        }
        if result.is_err() {
            self.remember();
        }
        result
    }

    /// Deletes the cloud object, or finishes a delete that stopped
    /// halfway, and answers `Ok` only once the provider no longer shows it.
    /// The delete is recorded (`status.deleteStarted`, with `Ready`
    /// `Deleting`) before its first call, so an error or a restart between
    /// two calls is picked up where it stopped, never taken for gone.
    pub(super) async fn delete<P: External<Kind = K, Env = E>>(
        &mut self,
        progress: &mut Progress<K::AtProvider>,
    ) -> Result<Action, Error> {
        let ext = P::connect(self.obj, self.ctx)?;
        let observed = match progress.external_id.clone() {
            // By id only: gone is what the provider says of this id, and a
            // name found after it is not this object's to delete.
            Some(id) => ext
                .get(&id)
                .await
                .map_err(Error::provider(format!("read the {}", K::NOUN)))?,
            // Only ever coffer's own: a stranger found by name is not deleted.
            None => match self.observe(&ext, progress, Read::Direct).await {
                Err(Error::AdoptionRefused { .. }) => None,
                other => other?,
            },
        };
        let Some(observed) = observed else {
            if progress.external_id.is_some() || progress.delete_started.is_some() {
                self.ctx.metrics.acted(K::KIND, "delete");
                self.publish(Note::normal(
                    reason::DELETED,
                    "Delete",
                    format!("the {} is gone from the provider", K::NOUN),
                ))
                .await;
            }
            return Ok(Action::await_change());
        };
        let id = P::id(&observed);
        progress.external_id = Some(id.clone());
        let health = ext.health(&observed);
        progress.observed = Some((ext.at_provider(&observed), health.clone()));
        if health != Health::Deleting {
            if progress.delete_started.is_none() {
                progress.delete_started = Some(Timestamp::now().to_string());
                self.publish(Note::normal(
                    reason::DELETING,
                    "Delete",
                    format!("deleting {} {id}", K::NOUN),
                ))
                .await;
                // Fenced like every status write: two writers cannot both
                // start, and the record is there before the first call.
                self.report(progress, None, true).await?;
            }
            ext.delete(&observed)
                .await
                .map_err(Error::provider(format!("delete the {}", K::NOUN)))?;
            if let Some((_, shown)) = progress.observed.as_mut() {
                *shown = Health::Deleting;
            }
        }
        Err(Error::Deleting { noun: K::NOUN, id })
    }
}
