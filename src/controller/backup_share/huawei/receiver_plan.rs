//! The receiver's pure plan: the spec's decision against this project's
//! member record. At most one call, CBR's `PUT …/members/{member_id}`
//! (seed 001), with `vault_id` only when accepting. Nothing is called
//! while the share is not visible or the vault to accept into is not
//! known yet; both are waited for, not failed.

use crate::api::backup_share::Decision;
use crate::api::managed::{Drift, DriftAction};
use crate::controller::engine::{Blocked, Health, Plan};
use crate::provider::huawei::share::{Member, MemberStatus};

/// The `Ready` reason while the share is not visible to this project.
pub const NOT_VISIBLE: &str = "ShareNotVisible";
/// The `Ready` reason while a `vaultRef` is not Ready.
pub const WAITING_FOR_VAULT: &str = "WaitingForVault";

/// The receiver's member record as observed; `member: None` when this
/// project cannot see one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub backup_id: String,
    pub member: Option<Member>,
    /// The backup is this project's own: CBR lets a project answer only
    /// shares of other projects' backups.
    pub own_backup: bool,
}

/// The `Ready` reason of a receiver naming a backup its own project owns.
pub const OWN_BACKUP: &str = "OwnBackup";

/// Where an accepted backup goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vault {
    /// Rejecting: no vault.
    None,
    /// A vault id, given or read from a Ready BackupVault.
    Id(String),
    /// A `vaultRef` whose BackupVault is missing or not Ready yet.
    Waiting { name: String, why: String },
}

/// What the receiver wants, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired {
    pub backup_id: String,
    pub project_id: String,
    pub decision: Decision,
    pub vault: Vault,
}

/// The one receiver call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: MemberStatus,
    pub vault_id: Option<String>,
}

/// The call that makes the member record say what the spec decides.
pub fn plan(desired: &Desired, observed: &Observed) -> Plan<Answer> {
    let mut plan = Plan::default();
    let Some(member) = &observed.member else {
        plan.awaiting.push(format!(
            "backup {} shared with project {}",
            desired.backup_id, desired.project_id
        ));
        return plan;
    };
    let current = member.status();
    match (&desired.decision, &desired.vault) {
        (Decision::Reject, _) => {
            if current != Some(MemberStatus::Rejected) {
                plan.drift.push(drift(member, "rejected"));
                plan.calls.push(Answer {
                    status: MemberStatus::Rejected,
                    vault_id: None,
                });
            }
        }
        (Decision::Accept, Vault::Waiting { name, .. }) => {
            if current != Some(MemberStatus::Accepted) {
                plan.awaiting.push(format!("BackupVault {name} Ready"));
            }
        }
        (Decision::Accept, Vault::Id(vault)) => match current {
            Some(MemberStatus::Accepted) if member.vault_id.as_deref() == Some(vault.as_str()) => {}
            Some(MemberStatus::Accepted) => plan.blocked.push(Blocked {
                reason: "AcceptedIntoAnotherVault",
                message: format!(
                    "backup {} was accepted into vault {}, not {vault}; CBR cannot move an accepted backup: reject it and accept again, or set the vault back",
                    desired.backup_id,
                    member.vault_id.as_deref().unwrap_or("(none)")
                ),
            }),
            _ => {
                plan.drift.push(drift(member, "accepted"));
                plan.calls.push(Answer {
                    status: MemberStatus::Accepted,
                    vault_id: Some(vault.clone()),
                });
            }
        },
        (Decision::Accept, Vault::None) => plan.blocked.push(Blocked {
            reason: "InvalidSpec",
            message: "accepting needs receiver.vaultRef or receiver.vaultId".into(),
        }),
    }
    plan
}

fn drift(member: &Member, desired: &str) -> Drift {
    Drift {
        field: "receiver.decision".into(),
        desired: desired.into(),
        observed: member.status.clone(),
        action: DriftAction::Update,
        reason: None,
    }
}

/// `Ready` of the receiver's share.
pub fn health(desired: &Desired, observed: &Observed) -> Health {
    let id = &desired.backup_id;
    if observed.own_backup {
        return Health::Degraded {
            reason: OWN_BACKUP.into(),
            message: format!(
                "backup {id} belongs to project {} itself, and a project only accepts or rejects \
                 backups other projects share with it: share it with an owner BackupShare instead",
                desired.project_id
            ),
        };
    }
    let Some(member) = &observed.member else {
        return Health::Progressing {
            reason: NOT_VISIBLE.into(),
            message: format!(
                "backup {id} is not shared with project {} (not yet, or it was unshared or deleted); coffer looks again at the poll interval",
                desired.project_id
            ),
        };
    };
    match (member.status(), &desired.decision) {
        (Some(MemberStatus::Accepted), Decision::Accept) => Health::Available {
            message: format!(
                "backup {id} accepted into vault {}, image {}",
                member.vault_id.as_deref().unwrap_or("(unknown)"),
                member.image_id.as_deref().unwrap_or("(not yet)")
            ),
        },
        (Some(MemberStatus::Rejected), Decision::Reject) => Health::Available {
            message: format!("backup {id} rejected"),
        },
        (_, Decision::Accept) => match &desired.vault {
            Vault::Waiting { name, why } => Health::Progressing {
                reason: WAITING_FOR_VAULT.into(),
                message: format!(
                    "waiting for BackupVault {name} to accept backup {id} into: {why}"
                ),
            },
            _ => Health::Progressing {
                reason: "Pending".into(),
                message: format!("backup {id} is {}; accepting it", member.status),
            },
        },
        (_, Decision::Reject) => Health::Progressing {
            reason: "Pending".into(),
            message: format!("backup {id} is {}; rejecting it", member.status),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(decision: Decision, vault: Vault) -> Desired {
        Desired {
            backup_id: "b1".into(),
            project_id: "p2".into(),
            decision,
            vault,
        }
    }

    fn seen(status: &str, vault: Option<&str>) -> Observed {
        Observed {
            backup_id: "b1".into(),
            member: Some(Member {
                project_id: "p2".into(),
                status: status.into(),
                vault_id: vault.map(str::to_string),
                image_id: None,
                updated_at: None,
            }),
            own_backup: false,
        }
    }

    #[test]
    fn a_receiver_of_its_own_backup_is_degraded_with_its_reason() {
        let d = desired(Decision::Reject, Vault::None);
        let own = Observed {
            backup_id: "b1".into(),
            member: None,
            own_backup: true,
        };
        assert!(plan(&d, &own).calls.is_empty());
        assert!(
            matches!(health(&d, &own), Health::Degraded { reason, .. } if reason == OWN_BACKUP)
        );
    }

    #[test]
    fn accepting_a_pending_share_is_one_put_with_the_vault() {
        let p = plan(
            &desired(Decision::Accept, Vault::Id("v1".into())),
            &seen("pending", None),
        );
        assert_eq!(
            p.calls,
            [Answer {
                status: MemberStatus::Accepted,
                vault_id: Some("v1".into())
            }]
        );
    }

    #[test]
    fn an_accepted_share_in_that_vault_plans_nothing() {
        let p = plan(
            &desired(Decision::Accept, Vault::Id("v1".into())),
            &seen("accepted", Some("v1")),
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn switching_to_reject_is_one_put_without_a_vault() {
        let p = plan(
            &desired(Decision::Reject, Vault::None),
            &seen("accepted", Some("v1")),
        );
        assert_eq!(
            p.calls,
            [Answer {
                status: MemberStatus::Rejected,
                vault_id: None
            }]
        );
    }

    #[test]
    fn a_vault_ref_not_ready_waits_without_calls() {
        let waiting = Vault::Waiting {
            name: "in".into(),
            why: "not Ready".into(),
        };
        let d = desired(Decision::Accept, waiting);
        let p = plan(&d, &seen("pending", None));
        assert!(p.calls.is_empty());
        assert_eq!(p.awaiting, ["BackupVault in Ready"]);
        assert!(
            matches!(health(&d, &seen("pending", None)), Health::Progressing { reason, .. } if reason == WAITING_FOR_VAULT)
        );
    }

    #[test]
    fn an_invisible_share_waits_and_says_so() {
        let d = desired(Decision::Reject, Vault::None);
        let none = Observed {
            backup_id: "b1".into(),
            member: None,
            own_backup: false,
        };
        assert!(plan(&d, &none).calls.is_empty());
        assert!(
            matches!(health(&d, &none), Health::Progressing { reason, .. } if reason == NOT_VISIBLE)
        );
    }

    #[test]
    fn a_share_already_rejected_plans_nothing_and_is_available() {
        let d = desired(Decision::Reject, Vault::None);
        let rejected = seen("rejected", None);
        assert_eq!(plan(&d, &rejected), Plan::default());
        assert_eq!(
            health(&d, &rejected),
            Health::Available {
                message: "backup b1 rejected".into()
            }
        );
    }

    #[test]
    fn a_reject_is_one_drift_entry_on_the_decision() {
        let p = plan(
            &desired(Decision::Reject, Vault::None),
            &seen("pending", None),
        );
        assert_eq!(
            p.drift,
            [Drift {
                field: "receiver.decision".into(),
                desired: "rejected".into(),
                observed: "pending".into(),
                action: DriftAction::Update,
                reason: None,
            }]
        );
    }

    #[test]
    fn an_accepted_share_does_not_wait_for_its_vault_ref() {
        let waiting = Vault::Waiting {
            name: "in".into(),
            why: "not Ready".into(),
        };
        let p = plan(
            &desired(Decision::Accept, waiting),
            &seen("accepted", Some("v1")),
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn a_share_accepted_into_another_vault_is_blocked_not_answered_again() {
        let p = plan(
            &desired(Decision::Accept, Vault::Id("v2".into())),
            &seen("accepted", Some("v1")),
        );
        assert!(p.calls.is_empty(), "{p:?}");
        assert_eq!(p.blocked[0].reason, "AcceptedIntoAnotherVault");
        assert!(p.blocked[0].message.contains("vault v1, not v2"));
    }

    #[test]
    fn health_says_where_an_accepted_share_went_and_what_is_pending() {
        let accept = desired(Decision::Accept, Vault::Id("v1".into()));
        assert_eq!(
            health(&accept, &seen("accepted", Some("v1"))),
            Health::Available {
                message: "backup b1 accepted into vault v1, image (not yet)".into()
            }
        );
        assert!(matches!(
            health(&accept, &seen("pending", None)),
            Health::Progressing { reason, message }
                if reason == "Pending" && message == "backup b1 is pending; accepting it"
        ));
        assert!(matches!(
            health(&desired(Decision::Reject, Vault::None), &seen("accepted", Some("v1"))),
            Health::Progressing { reason, message }
                if reason == "Pending" && message == "backup b1 is accepted; rejecting it"
        ));
    }
}
