//! Whether an object was left settled: the provider object known, Ready
//! and Synced for this generation, nothing in flight. After a start (or a
//! takeover) such an object is not read at once — every object arrives
//! from the initial list together, and reading each then would spend a
//! whole resync's worth of provider reads in a burst and run into the
//! provider's rate limits. `controller::changes` holds its first event back
//! and `controller::sweep` reads it at its own moment of the interval,
//! which is when any replica would have read it anyway.

use super::external::Managed;
use super::policy::Policy;
use crate::api::conditions::{self, READY, SYNCED};

/// Whether `obj`'s status says coffer left it with nothing to do: the
/// provider object known, Ready and Synced for this generation, nothing in
/// flight or pending, and no reconcile request unanswered.
pub fn settled<K: Managed>(obj: &K, policy: &Policy) -> bool {
    let Some(status) = obj.managed_status() else {
        return false;
    };
    let generation = obj.meta().generation;
    let holds = |type_| {
        conditions::find(&status.conditions, type_)
            .is_some_and(|c| c.status == "True" && c.observed_generation == generation)
    };
    status.external_id.is_some()
        && status.in_flight.is_empty()
        && status.create_pending.is_none()
        && status.call_pending.is_none()
        && status.observed_generation == generation
        && holds(READY)
        && holds(SYNCED)
        && (policy.requested_at.is_none()
            || policy.requested_at == status.last_handled_reconcile_at)
        && obj.meta().deletion_timestamp.is_none()
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::api::BackupVault;
    use crate::api::conditions::Condition;
    use crate::api::managed::{CallPending, CreatePending, InFlightCall};
    use crate::controller::engine::fixtures::object;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn condition(type_: &str, generation: i64) -> Condition {
        Condition {
            type_: type_.into(),
            status: "True".into(),
            observed_generation: Some(generation),
            last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
            reason: "Available".into(),
            message: String::new(),
        }
    }

    pub fn settled_vault() -> BackupVault {
        let mut bv = object();
        let status = bv.status.get_or_insert_with(Default::default);
        status.external_id = Some("vault-1".into());
        status.observed_generation = Some(1);
        status.conditions = vec![condition(READY, 1), condition(SYNCED, 1)];
        bv
    }

    #[test]
    fn only_a_status_that_says_ready_and_synced_for_this_generation_is_settled() {
        let policy = Policy::default();
        assert!(settled(&settled_vault(), &policy));
        assert!(!settled(&object(), &policy), "never reconciled");
        let mut changed = settled_vault();
        changed.metadata.generation = Some(2);
        assert!(!settled(&changed, &policy), "spec changed since");
        let mut pending = settled_vault();
        pending.status.as_mut().unwrap().in_flight = vec![InFlightCall {
            call: "job/1".into(),
            since: Time(jiff::Timestamp::UNIX_EPOCH),
        }];
        assert!(!settled(&pending, &policy), "a call in flight");
        let asked = Policy {
            requested_at: Some("now".into()),
            ..Policy::default()
        };
        assert!(
            !settled(&settled_vault(), &asked),
            "a reconcile was requested"
        );
    }

    #[test]
    fn any_one_thing_left_to_do_unsettles_an_otherwise_settled_object() {
        let policy = Policy::default();
        let unsettled = |why: &str, change: &dyn Fn(&mut BackupVault)| {
            let mut bv = settled_vault();
            change(&mut bv);
            assert!(!settled(&bv, &policy), "{why}");
        };
        fn status(bv: &mut BackupVault) -> &mut crate::api::BackupVaultStatus {
            bv.status.as_mut().expect("status")
        }
        unsettled("no cloud object known", &|bv| status(bv).external_id = None);
        unsettled("a create pending", &|bv| {
            status(bv).create_pending = Some(CreatePending { since: "t0".into() })
        });
        unsettled("a call pending", &|bv| {
            status(bv).call_pending = Some(CallPending {
                call: "post".into(),
                since: "t0".into(),
            })
        });
        unsettled("status from another generation", &|bv| {
            status(bv).observed_generation = Some(0)
        });
        unsettled("Ready from another generation", &|bv| {
            status(bv).conditions[0].observed_generation = Some(0)
        });
        unsettled("not Ready", &|bv| {
            status(bv).conditions[0].status = "False".into()
        });
        unsettled("not Synced", &|bv| {
            status(bv).conditions[1].status = "False".into()
        });
        unsettled("no Synced at all", &|bv| status(bv).conditions.truncate(1));
        unsettled("being deleted", &|bv| {
            bv.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH))
        });
    }

    #[test]
    fn a_reconcile_request_already_answered_leaves_it_settled() {
        let mut answered = settled_vault();
        answered.status.as_mut().unwrap().last_handled_reconcile_at = Some("now".into());
        let asked = Policy {
            requested_at: Some("now".into()),
            ..Policy::default()
        };
        assert!(settled(&answered, &asked));
    }
}
