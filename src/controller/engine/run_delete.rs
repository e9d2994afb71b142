//! The engine's side of a deleted object: `Delete` deletes the cloud
//! object and holds the finalizer until the provider no longer has it;
//! `Orphan`, observing only, or a pair whose objects outlive coffer's
//! (`External::KEPT_ON_DELETE`) let go with an Event that says why.

use kube::runtime::controller::Action;

use super::{Progress, Run};
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

    pub(super) async fn delete<P: External<Kind = K, Env = E>>(
        &mut self,
        progress: &mut Progress<K::AtProvider>,
    ) -> Result<Action, Error> {
        let ext = P::connect(self.obj, self.ctx)?;
        let had_id = progress.external_id.is_some();
        // Only ever coffer's own: a stranger found by name is not deleted.
        let observed = match self.observe(&ext, progress).await {
            Err(Error::AdoptionRefused { .. }) => None,
            other => other?,
        };
        let Some(observed) = observed else {
            if had_id {
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
        let mut health = ext.health(&observed);
        if health != Health::Deleting {
            ext.delete(&observed)
                .await
                .map_err(Error::provider(format!("delete the {}", K::NOUN)))?;
            health = Health::Deleting;
            self.publish(Note::normal(
                reason::DELETING,
                "Delete",
                format!("deleting {} {id}", K::NOUN),
            ))
            .await;
        }
        progress.observed = Some((ext.at_provider(&observed), health));
        Err(Error::Deleting { noun: K::NOUN, id })
    }
}
