//! Finding the vault a BackupVault stands for: by the id in status, or — when
//! there is none, or it is gone — by exact name plus the ownership tag, which
//! is how a vault created by a request whose answer was lost is found again
//! instead of created twice.

use super::diff::owner_tag;
use super::error::Error;
use crate::provider::{Vault, VaultApi};

/// CBR's status of a vault on its way out.
pub const DELETING: &str = "deleting";

/// What observing found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// The vault, if there is one coffer owns.
    pub vault: Option<Vault>,
    /// Found by name and ownership tag rather than by the id in status.
    pub adopted: bool,
    /// The id in status named a vault that no longer exists: it was deleted
    /// outside coffer.
    pub lost_id: Option<String>,
}

/// Observes the vault of the object with `uid`.
pub async fn observe(
    vaults: &dyn VaultApi,
    external_id: Option<&str>,
    name: &str,
    uid: &str,
) -> Result<Observation, Error> {
    let mut lost_id = None;
    if let Some(id) = external_id {
        match vaults.get(id).await {
            Ok(vault) => {
                return Ok(Observation {
                    vault: Some(vault),
                    ..Observation::default()
                });
            }
            Err(e) if e.is_not_found() => lost_id = Some(id.to_string()),
            Err(e) => return Err(Error::provider("read the vault")(e)),
        }
    }
    let vault = find_owned(vaults, name, uid).await?;
    Ok(Observation {
        adopted: vault.is_some(),
        vault,
        lost_id,
    })
}

/// The one live vault named `name` that carries the ownership tag of `uid`.
pub async fn find_owned(
    vaults: &dyn VaultApi,
    name: &str,
    uid: &str,
) -> Result<Option<Vault>, Error> {
    let candidates = vaults
        .find_by_name(name)
        .await
        .map_err(Error::provider("list vaults by name"))?;
    pick_owned(candidates, name, uid)
}

/// Picks coffer's vault among `candidates`: exactly `name` (the provider's
/// name filter may be fuzzy), tagged with `uid`, and not being deleted.
/// Two or more is an error no retry can fix.
pub fn pick_owned(candidates: Vec<Vault>, name: &str, uid: &str) -> Result<Option<Vault>, Error> {
    let tag = owner_tag(uid);
    let mut owned: Vec<Vault> = candidates
        .into_iter()
        .filter(|v| v.name == name && v.status != DELETING && v.tags.contains(&tag))
        .collect();
    match owned.len() {
        0 | 1 => Ok(owned.pop()),
        _ => Err(Error::AmbiguousAdoption {
            name: name.to_string(),
            ids: owned.into_iter().map(|v| v.id).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::backup_vault::fixtures::{UID, vault};
    use crate::provider::Tag;
    use crate::provider::memory::MemoryVaults;

    /// The fixture vault carries the ownership tag of [`UID`].
    fn owned(id: &str) -> Vault {
        vault(id)
    }

    fn untagged(id: &str) -> Vault {
        let mut v = vault(id);
        v.tags.clear();
        v
    }

    #[test]
    fn adoption_needs_exact_name_and_ownership_tag() {
        let mut other_name = owned("v2");
        other_name.name = "team-a-vault-old".into();
        let mut foreign = vault("v3");
        foreign.tags = vec![Tag::new("coffer-uid", "someone-else")];
        let picked = pick_owned(
            vec![owned("v1"), other_name, foreign, untagged("v4")],
            "team-a-vault",
            UID,
        )
        .expect("one match");
        assert_eq!(picked.map(|v| v.id), Some("v1".to_string()));
    }

    #[test]
    fn two_owned_vaults_are_ambiguous() {
        let err =
            pick_owned(vec![owned("v1"), owned("v2")], "team-a-vault", UID).expect_err("ambiguous");
        assert!(matches!(err, Error::AmbiguousAdoption { ids, .. } if ids == ["v1", "v2"]));
    }

    #[test]
    fn a_vault_being_deleted_is_not_adopted() {
        let mut going = owned("v1");
        going.status = DELETING.into();
        assert_eq!(
            pick_owned(vec![going], "team-a-vault", UID).ok(),
            Some(None)
        );
    }

    #[tokio::test]
    async fn the_id_in_status_is_read_directly() {
        let fake = MemoryVaults::with(vec![owned("v1")]);
        let seen = observe(&fake, Some("v1"), "team-a-vault", UID)
            .await
            .expect("observed");
        assert_eq!(seen.vault.map(|v| v.id), Some("v1".into()));
        assert!(!seen.adopted);
        assert_eq!(fake.calls(), ["get v1"]);
    }

    #[tokio::test]
    async fn a_vault_deleted_out_of_band_is_reported_lost() {
        let fake = MemoryVaults::with(vec![]);
        let seen = observe(&fake, Some("gone"), "team-a-vault", UID)
            .await
            .expect("observed");
        assert_eq!(seen.lost_id.as_deref(), Some("gone"));
        assert_eq!(seen.vault, None);
        assert_eq!(fake.calls(), ["get gone", "find team-a-vault"]);
    }

    #[tokio::test]
    async fn without_an_id_the_owned_vault_is_adopted() {
        let fake = MemoryVaults::with(vec![owned("v9")]);
        let seen = observe(&fake, None, "team-a-vault", UID)
            .await
            .expect("observed");
        assert!(seen.adopted);
        assert_eq!(seen.vault.map(|v| v.id), Some("v9".into()));
    }
}
