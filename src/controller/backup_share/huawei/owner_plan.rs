//! The owner's pure plan: the spec's member set against the backup's
//! member list. Missing members are added in as few calls as CBR allows
//! (at most 10 each), extra members removed one by one; a backup CBR will
//! not share (deleted, not available yet, not a server backup) plans no
//! call and says why.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::Timestamp;

use crate::api::managed::{Drift, DriftAction};
use crate::controller::engine::{Blocked, Health, Plan};
use crate::provider::huawei::share::{Backup, MAX_MEMBERS_PER_ADD, Member, MemberStatus};

/// The only backups CBR shares.
pub const SERVER_TYPE: &str = "OS::Nova::Server";
/// The `Ready` reason of a share whose backup CBR does not have (deleted
/// outside coffer, or never made in this project).
pub const BACKUP_NOT_FOUND: &str = "BackupNotFound";

/// The owner's member set as observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub backup_id: String,
    /// `None`: CBR no longer has the backup.
    pub backup: Option<Backup>,
    pub members: Vec<Member>,
    /// This project sees the backup (it was shared with it) but does not
    /// own it, so CBR refuses every owner call.
    pub not_owner: bool,
}

/// The reason of an owner share whose backup another project owns.
pub const NOT_OWNER: &str = "NotBackupOwner";

fn not_owner_message(id: &str, owner: &str) -> String {
    format!(
        "backup {id} belongs to project {owner}, and CBR lets only its owner share it: \
         this project can accept or reject it with a receiver BackupShare"
    )
}

/// One owner call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// Add these members (1 to 10) in one call.
    Add(Vec<String>),
    /// Remove one member.
    Remove(String),
}

/// How soon to read the member list again while a member has not answered:
/// an eighth of the time the longest-waiting member has been pending,
/// between `floor` and `ceiling`. An answer usually comes soon after the
/// share or not for a long while, so the reads thin out as the wait grows
/// (a backoff with no state: the age is CBR's `updated_at`). `None` when no
/// member is pending.
pub fn recheck(
    observed: &Observed,
    now: Timestamp,
    floor: Duration,
    ceiling: Duration,
) -> Option<Duration> {
    let pending = observed
        .members
        .iter()
        .filter(|m| m.status() == Some(MemberStatus::Pending));
    let mut waited: Option<Duration> = None;
    for member in pending {
        let since = member.updated_at.as_deref().and_then(parse_time);
        let age = since.map_or(Duration::ZERO, |t| {
            Duration::try_from(now.duration_since(t)).unwrap_or(Duration::ZERO)
        });
        waited = Some(waited.map_or(age, |w| w.max(age)));
    }
    let interval = waited? / 8;
    Some(interval.max(floor).min(ceiling.max(floor)))
}

/// CBR's times: RFC 3339, or without a zone (UTC) as CBR writes them.
fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok().or_else(|| {
        let civil = text.parse::<jiff::civil::DateTime>().ok()?;
        civil
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })
}

/// The spec's members not shared yet, in calls of at most 10.
pub fn adds(desired: &BTreeSet<String>, members: &[Member]) -> Vec<Vec<String>> {
    let present: BTreeSet<&str> = members.iter().map(|m| m.project_id.as_str()).collect();
    let missing: Vec<String> = desired
        .iter()
        .filter(|p| !present.contains(p.as_str()))
        .cloned()
        .collect();
    missing
        .chunks(MAX_MEMBERS_PER_ADD)
        .map(<[String]>::to_vec)
        .collect()
}

/// The calls that make the member list match `desired`.
pub fn plan(desired: &BTreeSet<String>, observed: &Observed) -> Plan<Call> {
    let id = &observed.backup_id;
    let Some(backup) = &observed.backup else {
        return blocked(
            BACKUP_NOT_FOUND,
            format!(
                "backup {id} no longer exists at CBR (deleted outside coffer); nothing can be shared: delete this BackupShare or point it at another backup"
            ),
        );
    };
    if observed.not_owner {
        return blocked(NOT_OWNER, not_owner_message(id, &backup.project_id));
    }
    let mut plan = Plan::default();
    let present: BTreeSet<&str> = observed
        .members
        .iter()
        .map(|m| m.project_id.as_str())
        .collect();
    for project in desired.iter().filter(|p| !present.contains(p.as_str())) {
        plan.drift
            .push(drift(project, "member", "absent", DriftAction::Update));
    }
    for project in present.iter().filter(|p| !desired.contains(**p)) {
        plan.drift
            .push(drift(project, "absent", "member", DriftAction::Update));
        plan.calls.push(Call::Remove(project.to_string()));
    }
    let adds = adds(desired, &observed.members);
    if adds.is_empty() {
        return plan;
    }
    if backup.resource_type != SERVER_TYPE {
        plan.blocked.push(Blocked {
            reason: "BackupNotShareable",
            message: format!(
                "backup {id} is a backup of {:?}; CBR shares only cloud-server backups",
                backup.resource_type
            ),
        });
        set_blocked(&mut plan, "CBR shares only cloud-server backups");
        return plan;
    }
    if backup.status != "available" {
        // Not an error: a new backup is `protecting` for a while.
        plan.awaiting
            .push(format!("backup {id} available (it is {})", backup.status));
        set_blocked(&mut plan, "CBR shares only available backups");
        return plan;
    }
    plan.calls.splice(0..0, adds.into_iter().map(Call::Add));
    plan
}

fn set_blocked(plan: &mut Plan<Call>, why: &str) {
    for d in plan.drift.iter_mut().filter(|d| d.desired == "member") {
        d.action = DriftAction::Blocked;
        d.reason = Some(why.to_string());
    }
}

fn blocked(reason: &'static str, message: String) -> Plan<Call> {
    Plan {
        blocked: vec![Blocked { reason, message }],
        ..Plan::default()
    }
}

fn drift(project: &str, desired: &str, observed: &str, action: DriftAction) -> Drift {
    Drift {
        field: format!("owner.members[{project}]"),
        desired: desired.to_string(),
        observed: observed.to_string(),
        action,
        reason: None,
    }
}

/// `Ready` of the owner's share.
pub fn health(observed: &Observed) -> Health {
    let id = &observed.backup_id;
    let Some(backup) = &observed.backup else {
        return Health::Degraded {
            reason: BACKUP_NOT_FOUND.into(),
            message: format!(
                "backup {id} does not exist at CBR in this project (deleted outside coffer, or never made here); coffer looks again at the next drift check"
            ),
        };
    };
    if observed.not_owner {
        return Health::Degraded {
            reason: NOT_OWNER.into(),
            message: not_owner_message(id, &backup.project_id),
        };
    }
    if backup.status != "available" {
        return Health::Progressing {
            reason: "BackupNotAvailable".into(),
            message: format!(
                "backup {id} is {}; CBR shares it once it is available",
                backup.status
            ),
        };
    }
    let count = |s: &str| observed.members.iter().filter(|m| m.status == s).count();
    Health::Available {
        message: format!(
            "backup {id} is shared with {} project(s): {} accepted, {} pending, {} rejected",
            observed.members.len(),
            count("accepted"),
            count("pending"),
            count("rejected")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(p: &str, status: &str) -> Member {
        Member {
            project_id: p.into(),
            status: status.into(),
            vault_id: None,
            image_id: None,
            updated_at: None,
        }
    }

    fn observed(members: Vec<Member>) -> Observed {
        Observed {
            backup_id: "b1".into(),
            backup: Some(Backup {
                id: "b1".into(),
                status: "available".into(),
                resource_type: SERVER_TYPE.into(),
                project_id: "owner".into(),
            }),
            members,
            not_owner: false,
        }
    }

    #[test]
    fn a_backup_of_another_project_is_refused_with_its_own_reason() {
        let theirs = Observed {
            not_owner: true,
            ..observed(vec![])
        };
        let p = plan(&set(&["a"]), &theirs);
        assert!(p.calls.is_empty());
        assert_eq!(p.blocked[0].reason, NOT_OWNER);
        assert!(
            p.blocked[0].message.contains("project owner"),
            "{}",
            p.blocked[0].message
        );
        assert!(matches!(health(&theirs), Health::Degraded { reason, .. } if reason == NOT_OWNER));
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn three_missing_members_are_one_add() {
        let p = plan(&set(&["a", "b", "c"]), &observed(vec![]));
        assert_eq!(
            p.calls,
            [Call::Add(vec!["a".into(), "b".into(), "c".into()])]
        );
        assert_eq!(p.drift.len(), 3);
    }

    #[test]
    fn adds_go_in_calls_of_at_most_ten() {
        let many: Vec<String> = (0..23).map(|i| format!("p{i:02}")).collect();
        let desired: BTreeSet<String> = many.iter().cloned().collect();
        let sizes: Vec<usize> = adds(&desired, &[]).iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 10, 3]);
    }

    #[test]
    fn an_extra_member_is_one_remove() {
        let p = plan(
            &set(&["a"]),
            &observed(vec![member("a", "pending"), member("x", "accepted")]),
        );
        assert_eq!(p.calls, [Call::Remove("x".into())]);
    }

    #[test]
    fn a_matching_member_set_plans_nothing() {
        let p = plan(
            &set(&["a", "b"]),
            &observed(vec![member("b", "accepted"), member("a", "pending")]),
        );
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn a_deleted_backup_plans_nothing_and_says_so() {
        let gone = Observed {
            backup: None,
            ..observed(vec![])
        };
        let p = plan(&set(&["a"]), &gone);
        assert!(p.calls.is_empty());
        assert_eq!(p.blocked[0].reason, BACKUP_NOT_FOUND);
        assert!(p.blocked[0].message.contains("backup b1"));
        assert!(
            matches!(health(&gone), Health::Degraded { reason, .. } if reason == BACKUP_NOT_FOUND)
        );
    }

    #[test]
    fn a_protecting_backup_waits_without_calls() {
        let mut o = observed(vec![]);
        if let Some(b) = o.backup.as_mut() {
            b.status = "protecting".into();
        }
        let p = plan(&set(&["a"]), &o);
        assert!(p.calls.is_empty());
        assert_eq!(p.awaiting.len(), 1);
    }

    #[test]
    fn a_disk_backup_is_blocked() {
        let mut o = observed(vec![]);
        if let Some(b) = o.backup.as_mut() {
            b.resource_type = "OS::Cinder::Volume".into();
        }
        let p = plan(&set(&["a"]), &o);
        assert!(p.calls.is_empty());
        assert_eq!(p.blocked[0].reason, "BackupNotShareable");
    }

    #[test]
    fn a_pending_member_is_read_again_sooner_the_fresher_its_share() {
        let member = |status: &str, at: &str| Member {
            project_id: format!("p-{at}"),
            status: status.into(),
            vault_id: None,
            image_id: None,
            updated_at: Some(at.into()),
        };
        let observed = |members| Observed {
            backup_id: "b".into(),
            backup: None,
            members,
            not_owner: false,
        };
        let now: Timestamp = "2026-12-05T12:00:00Z".parse().expect("time");
        let (floor, ceiling) = (Duration::from_secs(10), Duration::from_secs(600));
        let at = |members| recheck(&observed(members), now, floor, ceiling);
        assert_eq!(at(vec![member("accepted", "2026-12-05T11:59:00")]), None);
        assert_eq!(
            at(vec![member("pending", "2026-12-05T11:59:00.000000")]),
            Some(floor)
        );
        assert_eq!(
            at(vec![member("pending", "2026-12-05T11:00:00")]),
            Some(Duration::from_secs(450)),
            "an hour's wait: every seven and a half minutes"
        );
        assert_eq!(
            at(vec![member("pending", "2026-12-01T00:00:00")]),
            Some(ceiling)
        );
    }

    #[test]
    fn each_missing_or_extra_member_is_one_drift_entry() {
        let p = plan(&set(&["a"]), &observed(vec![member("x", "accepted")]));
        let drift: Vec<_> = p
            .drift
            .iter()
            .map(|d| {
                (
                    d.field.as_str(),
                    d.desired.as_str(),
                    d.observed.as_str(),
                    d.action,
                )
            })
            .collect();
        assert_eq!(
            drift,
            [
                ("owner.members[a]", "member", "absent", DriftAction::Update),
                ("owner.members[x]", "absent", "member", DriftAction::Update),
            ]
        );
        assert_eq!(
            p.calls,
            [Call::Add(vec!["a".into()]), Call::Remove("x".into())],
            "adds go first"
        );
    }

    #[test]
    fn an_unshareable_backup_blocks_only_the_adds() {
        let mut o = observed(vec![member("x", "accepted")]);
        if let Some(b) = o.backup.as_mut() {
            b.resource_type = "OS::Cinder::Volume".into();
        }
        let p = plan(&set(&["a"]), &o);
        assert_eq!(p.calls, [Call::Remove("x".into())]);
        assert_eq!(p.drift[0].action, DriftAction::Blocked);
        assert_eq!(
            p.drift[0].reason.as_deref(),
            Some("CBR shares only cloud-server backups")
        );
        assert_eq!(p.drift[1].action, DriftAction::Update);
        assert_eq!(p.drift[1].reason, None);
    }

    #[test]
    fn a_protecting_backup_says_what_it_waits_for() {
        let mut o = observed(vec![]);
        if let Some(b) = o.backup.as_mut() {
            b.status = "protecting".into();
        }
        let p = plan(&set(&["a"]), &o);
        assert_eq!(p.awaiting, ["backup b1 available (it is protecting)"]);
        assert_eq!(p.drift[0].action, DriftAction::Blocked);
        assert!(matches!(
            health(&o),
            Health::Progressing { reason, .. } if reason == "BackupNotAvailable"
        ));
    }

    #[test]
    fn health_counts_the_members_by_answer() {
        let o = observed(vec![
            member("a", "accepted"),
            member("b", "pending"),
            member("c", "pending"),
            member("d", "rejected"),
        ]);
        assert_eq!(
            health(&o),
            Health::Available {
                message: "backup b1 is shared with 4 project(s): 1 accepted, 2 pending, 1 rejected"
                    .into()
            }
        );
    }
}
