//! The BackupVault controller. Each reconcile reads as observe → diff → act →
//! report: find the vault (by id, else by name and ownership tag), plan the
//! calls that make it match the spec, make exactly those, and show the
//! result in status — written only when it changed. A pass that finds
//! nothing to change makes no provider write and no Kubernetes write.

pub mod act;
pub mod diff;
pub mod error;
pub mod observe;
pub mod report;

#[cfg(test)]
pub(crate) mod fixtures;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use kube::api::Api;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Resource, ResourceExt};

pub use error::Error;

use self::diff::{InFlight, Plan};
use self::observe::DELETING;
use self::report::Outcome;
use super::context::{Context, ReconcileError};
use super::events::{Note, reason};
use super::status;
use crate::api::backup_vault::HuaweiVault;
use crate::api::conditions::{self, SYNCED};
use crate::api::{BackupVault, BackupVaultStatus, DeletionPolicy};
use crate::provider::{Vault, VaultApi};

/// The kind, as metrics and per-object state name it.
pub const KIND: &str = "BackupVault";
/// Held while the vault may still exist at the provider.
pub const FINALIZER: &str = "coffer.dev/backup-vault";

/// Reconciles one BackupVault.
pub async fn reconcile(bv: Arc<BackupVault>, ctx: Arc<Context>) -> Result<Action, Error> {
    let _timer = ctx.metrics.start(KIND);
    let result = reconcile_inner(bv.clone(), &ctx).await;
    ctx.finish(KIND, bv.as_ref(), &result);
    result
}

/// When to look at a BackupVault again after a failed reconcile.
pub fn error_policy(bv: Arc<BackupVault>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.retry(KIND, bv.as_ref(), error)
}

async fn reconcile_inner(bv: Arc<BackupVault>, ctx: &Context) -> Result<Action, Error> {
    let namespace = bv.namespace().ok_or(Error::MissingMetadata("namespace"))?;
    let api: Api<BackupVault> = Api::namespaced(ctx.client.clone(), &namespace);
    finalizer(&api, FINALIZER, bv, |event| async {
        match event {
            Finalizer::Apply(bv) => Reconciler::new(ctx, &api, &bv)?.apply().await,
            Finalizer::Cleanup(bv) => Reconciler::new(ctx, &api, &bv)?.cleanup().await,
        }
    })
    .await
    .map_err(Error::from_finalizer)
}

/// What a reconcile has learned so far; reported whether it ends well or not.
#[derive(Default)]
struct Progress {
    external_id: Option<String>,
    vault: Option<Vault>,
    plan: Option<Plan>,
}

/// One reconcile of one object.
struct Reconciler<'a> {
    ctx: &'a Context,
    api: &'a Api<BackupVault>,
    bv: &'a BackupVault,
    namespace: String,
    uid: String,
    /// The status as last written, starting from the object's.
    status: BackupVaultStatus,
}

impl<'a> Reconciler<'a> {
    fn new(
        ctx: &'a Context,
        api: &'a Api<BackupVault>,
        bv: &'a BackupVault,
    ) -> Result<Self, Error> {
        Ok(Self {
            ctx,
            api,
            bv,
            namespace: bv.namespace().ok_or(Error::MissingMetadata("namespace"))?,
            uid: bv.uid().ok_or(Error::MissingMetadata("uid"))?,
            status: bv.status.clone().unwrap_or_default(),
        })
    }

    async fn apply(mut self) -> Result<Action, Error> {
        let mut progress = Progress {
            external_id: self.status.external_id.clone(),
            ..Progress::default()
        };
        let result = self.sync(&mut progress).await;
        let reported = self.report(&progress, result.as_ref().err(), false).await;
        let action = result?;
        reported?;
        Ok(action)
    }

    /// Observe, diff, act.
    async fn sync(&mut self, progress: &mut Progress) -> Result<Action, Error> {
        let spec = self.spec()?;
        let vaults = self.vaults()?;
        let seen = self.observe(vaults.as_ref(), spec, progress).await?;
        if let Some(lost) = &seen.lost_id {
            progress.external_id = None;
            self.ctx.metrics.acted(KIND, "recreate");
            self.publish(Note::warning(
                reason::VAULT_MISSING,
                "Observe",
                format!("vault {lost} no longer exists at the provider (deleted outside coffer); creating it again"),
            ))
            .await;
        }
        let vault = match seen.vault {
            Some(vault) => {
                if seen.adopted {
                    self.ctx.metrics.acted(KIND, "adopt");
                    self.publish(Note::normal(
                        reason::ADOPTED,
                        "Adopt",
                        format!("adopted vault {} found by name and ownership tag", vault.id),
                    ))
                    .await;
                }
                vault
            }
            None => self.create(vaults.as_ref(), spec, progress).await?,
        };
        progress.external_id = Some(vault.id.clone());
        progress.vault = Some(vault.clone());
        if vault.status == DELETING {
            // Deleted outside coffer and on its way out: recreate once it is gone.
            return Ok(self.ctx.poll());
        }

        let now = Timestamp::now();
        let in_flight = self.in_flight(|f| {
            f.settle(&vault, now, settle_time(self.ctx));
            f.clone()
        });
        let plan = diff::plan(spec, &self.uid, &vault, &in_flight);
        progress.plan = Some(plan.clone());
        if plan.is_empty() {
            return Ok(self.next(&plan));
        }
        let drift = self.was_in_sync();
        let updated = act::apply(vaults.as_ref(), &vault.id, &plan, |call| {
            self.in_flight(|f| f.record(call, now))
        })
        .await?;
        if let Some(updated) = updated {
            progress.vault = Some(updated);
        }
        let (event, action) = if drift {
            (reason::DRIFT_CORRECTED, "drift_correct")
        } else {
            (reason::UPDATED, "update")
        };
        self.ctx.metrics.acted(KIND, action);
        self.publish(Note::normal(event, "Update", plan.to_string()))
            .await;
        Ok(self.next(&plan))
    }

    /// Creates the vault and records its id in status at once, before
    /// anything else can fail: CBR has no idempotency token, and the id (with
    /// the ownership tag) is what keeps a retry from creating a second vault.
    async fn create(
        &mut self,
        vaults: &dyn VaultApi,
        spec: &HuaweiVault,
        progress: &mut Progress,
    ) -> Result<Vault, Error> {
        let request = diff::create_request(spec, &self.uid);
        let vault = act::create(vaults, &request).await?;
        let mut recorded = self.status.clone();
        recorded.external_id = Some(vault.id.clone());
        status::apply(self.api, self.bv, &recorded)
            .await
            .map_err(Error::kube("record the new vault's id in status"))?;
        self.status = recorded;
        progress.external_id = Some(vault.id.clone());
        self.in_flight(|f| f.record_created(&request, Timestamp::now()));
        self.ctx.metrics.acted(KIND, "create");
        self.publish(Note::normal(
            reason::CREATED,
            "Create",
            format!("created vault {}", vault.id),
        ))
        .await;
        Ok(vault)
    }

    /// `Delete` policy: delete the vault and hold the finalizer until the
    /// provider no longer has it. `Orphan`: let go at once.
    async fn cleanup(mut self) -> Result<Action, Error> {
        if self.bv.spec.deletion_policy == DeletionPolicy::Orphan {
            if let Some(id) = &self.status.external_id {
                self.ctx.metrics.acted(KIND, "orphan");
                self.publish(Note::normal(
                    reason::ORPHANED,
                    "Delete",
                    format!("left vault {id} at the provider (deletionPolicy Orphan)"),
                ))
                .await;
            }
            self.ctx.forget_vault(KIND, self.bv);
            return Ok(Action::await_change());
        }
        let mut progress = Progress {
            external_id: self.status.external_id.clone(),
            ..Progress::default()
        };
        let result = self.delete(&mut progress).await;
        match &result {
            Ok(_) => self.ctx.forget_vault(KIND, self.bv),
            Err(e) if e.is_waiting() => self.report(&progress, None, true).await?,
            Err(e) => self.report(&progress, Some(e), true).await?,
        }
        result
    }

    async fn delete(&mut self, progress: &mut Progress) -> Result<Action, Error> {
        let Some(spec) = self.bv.spec.huawei_cloud.as_ref() else {
            // Without a provider block nothing was ever created.
            return Ok(Action::await_change());
        };
        let vaults = self.vaults()?;
        let seen = self.observe(vaults.as_ref(), spec, progress).await?;
        let Some(mut vault) = seen.vault else {
            if progress.external_id.is_some() {
                self.ctx.metrics.acted(KIND, "delete");
                self.publish(Note::normal(
                    reason::DELETED,
                    "Delete",
                    "the vault is gone from the provider",
                ))
                .await;
            }
            return Ok(Action::await_change());
        };
        if vault.status != DELETING {
            act::delete(vaults.as_ref(), &vault.id).await?;
            vault.status = DELETING.to_string();
            self.publish(Note::normal(
                reason::DELETING,
                "Delete",
                format!("deleting vault {} and every backup in it", vault.id),
            ))
            .await;
        }
        progress.external_id = Some(vault.id.clone());
        let id = vault.id.clone();
        progress.vault = Some(vault);
        Err(Error::Deleting { id })
    }

    /// Writes the status `progress` and `error` amount to, if it changed,
    /// and publishes the Events its condition transitions deserve.
    async fn report(
        &mut self,
        progress: &Progress,
        error: Option<&Error>,
        cleanup: bool,
    ) -> Result<(), Error> {
        let outcome = Outcome {
            external_id: progress.external_id.as_deref(),
            vault: progress.vault.as_ref(),
            plan: progress.plan.as_ref(),
            error,
            cleanup,
        };
        let desired = report::status(
            &self.status,
            self.bv.meta().generation,
            &outcome,
            Timestamp::now(),
        );
        let notes = report::transition_notes(&self.status.conditions, &desired.conditions);
        status::write_if_changed(self.api, self.bv, Some(&self.status), &desired)
            .await
            .map_err(Error::kube("write the status"))?;
        self.status = desired;
        for note in notes {
            self.publish(note).await;
        }
        Ok(())
    }

    /// The vault by the id known so far, else by name and ownership tag.
    async fn observe(
        &self,
        vaults: &dyn VaultApi,
        spec: &HuaweiVault,
        progress: &Progress,
    ) -> Result<observe::Observation, Error> {
        observe::observe(
            vaults,
            progress.external_id.as_deref(),
            &spec.name,
            &self.uid,
        )
        .await
    }

    fn spec(&self) -> Result<&'a HuaweiVault, Error> {
        self.bv
            .spec
            .huawei_cloud
            .as_ref()
            .ok_or(Error::NoProviderBlock)
    }

    fn vaults(&self) -> Result<Arc<dyn VaultApi>, Error> {
        Ok(self.ctx.providers.vaults(
            &self.ctx.caches,
            &self.namespace,
            &self.bv.spec.provider_config_ref.name,
        )?)
    }

    /// Whether the last reconcile left the vault matching this very spec, so
    /// that a difference now was made outside coffer.
    fn was_in_sync(&self) -> bool {
        conditions::find(&self.status.conditions, SYNCED).is_some_and(|c| {
            c.status == "True" && c.observed_generation == self.bv.meta().generation
        })
    }

    /// Resync, or poll while resource changes are settling.
    fn next(&self, plan: &Plan) -> Action {
        let settling = !plan.awaiting.is_empty()
            || plan.calls.iter().any(|c| {
                matches!(
                    c,
                    diff::Call::AddResources(_) | diff::Call::RemoveResources(_)
                )
            });
        if settling {
            self.ctx.poll()
        } else {
            self.ctx.resync()
        }
    }

    fn in_flight<T>(&self, f: impl FnOnce(&mut InFlight) -> T) -> T {
        let mut all = self
            .ctx
            .vault_resources
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let entry = all.entry(self.uid.clone()).or_default();
        let out = f(entry);
        if entry.is_empty() {
            all.remove(&self.uid);
        }
        out
    }

    async fn publish(&self, note: Note) {
        self.ctx
            .events
            .publish(&self.bv.object_ref(&()), note)
            .await;
    }
}

fn settle_time(ctx: &Context) -> SignedDuration {
    SignedDuration::try_from(ctx.settings.settle_time).unwrap_or(SignedDuration::from_mins(2))
}
