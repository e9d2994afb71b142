//! Making the provider calls a [`Plan`] lists, and nothing else. A call that
//! fails stops the plan: the next reconcile observes again and plans only
//! what is still missing, so a half-applied plan is never replayed blindly.

use super::diff::{Call, Plan};
use super::error::Error;
use crate::provider::{Vault, VaultApi, VaultCreate};

/// Creates the vault. The caller records its id before doing anything else.
pub async fn create(vaults: &dyn VaultApi, request: &VaultCreate) -> Result<Vault, Error> {
    vaults
        .create(request)
        .await
        .map_err(Error::provider("create the vault"))
}

/// Makes the calls of `plan` on vault `id`, in order, telling `done` about
/// each one that succeeded. Returns the vault as the update call answered
/// it, when there was one, so status shows the changed fields without
/// another read.
pub async fn apply(
    vaults: &dyn VaultApi,
    id: &str,
    plan: &Plan,
    mut done: impl FnMut(&Call),
) -> Result<Option<Vault>, Error> {
    let mut updated = None;
    for call in &plan.calls {
        match call {
            Call::Update(update) => {
                updated = Some(
                    vaults
                        .update(id, update)
                        .await
                        .map_err(Error::provider("update the vault"))?,
                );
            }
            Call::AddTags(tags) => vaults
                .add_tags(id, tags)
                .await
                .map_err(Error::provider("tag the vault"))?,
            Call::RemoveTags(tags) => vaults
                .remove_tags(id, tags)
                .await
                .map_err(Error::provider("remove tags from the vault"))?,
            Call::RemoveResources(ids) => vaults
                .remove_resources(id, ids)
                .await
                .map_err(Error::provider("remove resources from the vault"))?,
            Call::AddResources(resources) => vaults
                .add_resources(id, resources)
                .await
                .map_err(Error::provider("add resources to the vault"))?,
        }
        done(call);
    }
    Ok(updated)
}

/// Starts deleting vault `id`; one already gone counts as deleted.
pub async fn delete(vaults: &dyn VaultApi, id: &str) -> Result<(), Error> {
    match vaults.delete(id).await {
        Err(e) if !e.is_not_found() => Err(Error::provider("delete the vault")(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::backup_vault::diff::{InFlight, plan};
    use crate::controller::backup_vault::fixtures::{UID, spec, vault};
    use crate::provider::ProviderError;
    use crate::provider::memory::MemoryVaults;

    #[tokio::test]
    async fn an_empty_plan_makes_no_call() {
        let fake = MemoryVaults::with(vec![vault("v1")]);
        let plan = plan(&spec(), UID, &vault("v1"), &InFlight::default());
        assert_eq!(apply(&fake, "v1", &plan, |_| {}).await.ok(), Some(None));
        assert!(fake.calls().is_empty());
    }

    #[tokio::test]
    async fn one_put_for_all_changed_fields() {
        let fake = MemoryVaults::with(vec![vault("v1")]);
        let mut want = spec();
        want.billing.size = 200;
        want.threshold = Some(90);
        let plan = plan(&want, UID, &vault("v1"), &InFlight::default());
        let updated = apply(&fake, "v1", &plan, |_| {}).await.expect("applied");
        assert_eq!(fake.calls(), ["update v1"]);
        assert_eq!(updated.map(|v| (v.size_gb, v.threshold)), Some((200, 90)));
    }

    #[tokio::test]
    async fn a_failed_call_stops_the_plan() {
        let fake = MemoryVaults::with(vec![vault("v1")]);
        let mut want = spec();
        want.threshold = Some(90);
        want.tags = Some(vec![]);
        let mut have = vault("v1");
        have.tags.push(crate::provider::Tag::new("old", "x"));
        let plan = plan(&want, UID, &have, &InFlight::default());
        fake.fail_next(ProviderError::Transient {
            message: "502".into(),
        });
        let mut done = Vec::new();
        assert!(
            apply(&fake, "v1", &plan, |c| done.push(c.clone()))
                .await
                .is_err()
        );
        assert_eq!(fake.calls(), ["update v1"]);
        assert!(done.is_empty(), "a failed call is not reported done");
    }

    #[tokio::test]
    async fn deleting_a_vault_already_gone_succeeds() {
        let fake = MemoryVaults::with(vec![]);
        fake.fail_next(ProviderError::NotFound {
            what: "vault".into(),
            message: "BackupService.6105".into(),
        });
        assert!(delete(&fake, "v1").await.is_ok());
    }
}
