//! One emulated CommCell: the user, plans, clients and groups a create may
//! name, the S3 vaults (each a client entity), and the endpoint jobs, which
//! run `Running` → `Completed` (or `Failed`) over a set time. Validates a
//! create the way the API documents it; time is passed in, so it is tested
//! without sleeping.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::provider::commvault::wire::{CreateStore, GROUP_TYPE, USER_TYPE};

/// The one user, its id and password.
#[derive(Clone, Debug)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub password: String,
}

/// An S3 vault: a client entity with its plan and endpoints.
#[derive(Clone, Debug)]
pub struct Store {
    pub client_id: i32,
    pub name: String,
    pub plan_id: i32,
    pub plan_name: String,
    pub endpoints: Vec<i32>,
    pub owners: Vec<i32>,
    pub user_groups: Vec<i32>,
    pub job_id: i64,
    /// Retired: no longer listed, waiting to be deleted.
    pub retired: bool,
    /// Not listed before this instant (the list's delay).
    pub listed_from: Instant,
}

/// An endpoint job.
#[derive(Clone, Debug)]
pub struct JobRecord {
    pub id: i64,
    pub client_id: i32,
    pub client_name: String,
    pub started: Instant,
    /// Epoch seconds, as Commvault reports times.
    pub started_epoch: i64,
    pub duration: Duration,
    /// Ends `Failed` with this reason instead of `Completed`.
    pub failure: Option<String>,
}

/// A job's state at one instant.
#[derive(Clone, Debug, PartialEq)]
pub struct JobState {
    pub status: &'static str,
    pub percent: i64,
    pub reason: String,
    pub end_epoch: i64,
}

impl JobRecord {
    pub fn state(&self, now: Instant) -> JobState {
        let elapsed = now.duration_since(self.started);
        if elapsed < self.duration {
            let percent = (elapsed.as_secs_f64() / self.duration.as_secs_f64() * 100.0) as i64;
            return JobState {
                status: "Running",
                percent: percent.min(99),
                reason: String::new(),
                end_epoch: 0,
            };
        }
        let end_epoch = self.started_epoch + self.duration.as_secs() as i64;
        match &self.failure {
            Some(reason) => JobState {
                status: "Failed",
                percent: 100,
                reason: reason.clone(),
                end_epoch,
            },
            None => JobState {
                status: "Completed",
                percent: 100,
                reason: String::new(),
                end_epoch,
            },
        }
    }
}

/// Why a create was refused: the HTTP status and the body's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 400: `{"errorMessage","errorCode":int}`.
    Invalid(String),
    /// 404: `{"errorMessage","errorCode":enum}`.
    NotFound(&'static str, String),
    /// 409: the name is taken.
    Duplicate(String),
}

/// The CommCell's state.
#[derive(Debug)]
pub struct CommCell {
    pub user: User,
    pub plans: BTreeMap<i32, String>,
    pub clients: BTreeMap<i32, String>,
    pub groups: BTreeMap<i32, String>,
    pub stores: BTreeMap<i32, Store>,
    pub jobs: BTreeMap<i64, JobRecord>,
    next_client_id: i32,
    next_job_id: i64,
}

/// The demo's plan, endpoint client and group, which `examples/commvault/` names.
pub const DEMO_PLAN: (i32, &str) = (3, "s3-plan");
pub const DEMO_CLIENT: (i32, &str) = (2, "mediaagent01");
pub const DEMO_GROUP: (i32, &str) = (1, "master");

impl CommCell {
    pub fn new(user: User) -> Self {
        Self {
            user,
            plans: BTreeMap::from([(DEMO_PLAN.0, DEMO_PLAN.1.to_string())]),
            clients: BTreeMap::from([(DEMO_CLIENT.0, DEMO_CLIENT.1.to_string())]),
            groups: BTreeMap::from([(DEMO_GROUP.0, DEMO_GROUP.1.to_string())]),
            stores: BTreeMap::new(),
            jobs: BTreeMap::new(),
            next_client_id: 100,
            next_job_id: 5000,
        }
    }

    /// Checks a create against the documented rules and the CommCell.
    pub fn validate(&self, req: &CreateStore) -> Result<(), Refusal> {
        let name = req.bucket.client_name.trim();
        if name.is_empty() {
            return Err(Refusal::Invalid("bucket.clientName is required".into()));
        }
        if req.plan.plan_name.trim().is_empty() {
            return Err(Refusal::Invalid("plan.planName is required".into()));
        }
        match self.plans.get(&req.plan.plan_id) {
            Some(plan) if plan.eq_ignore_ascii_case(&req.plan.plan_name) => {}
            _ => {
                return Err(Refusal::NotFound(
                    "VALUE_NOT_FOUND",
                    format!(
                        "plan {} ({}) does not exist",
                        req.plan.plan_name, req.plan.plan_id
                    ),
                ));
            }
        }
        for e in &req.cvs3_endpoints {
            if !self.clients.contains_key(&e.client_id) {
                return Err(Refusal::NotFound(
                    "INVALID_ENTITY_ID",
                    format!("client {} does not exist", e.client_id),
                ));
            }
        }
        for o in &req.owners {
            if o.type_ != USER_TYPE {
                return Err(Refusal::Invalid(format!(
                    "owners[].__type__ must be {USER_TYPE}"
                )));
            }
            if o.user_id != self.user.id {
                return Err(Refusal::NotFound(
                    "INVALID_ENTITY_ID",
                    format!("user {} does not exist", o.user_id),
                ));
            }
        }
        for g in &req.user_groups {
            if g.type_ != GROUP_TYPE {
                return Err(Refusal::Invalid(format!(
                    "userGroups[].__type__ must be {GROUP_TYPE}"
                )));
            }
            if !self.groups.contains_key(&g.user_group_id) {
                return Err(Refusal::NotFound(
                    "INVALID_ENTITY_ID",
                    format!("user group {} does not exist", g.user_group_id),
                ));
            }
        }
        let taken = self
            .stores
            .values()
            .any(|s| s.name.eq_ignore_ascii_case(name))
            || self.clients.values().any(|c| c.eq_ignore_ascii_case(name));
        if taken {
            return Err(Refusal::Duplicate(format!(
                "an entity named {name} already exists"
            )));
        }
        Ok(())
    }

    /// Makes the vault and starts its endpoint job; `(clientId, jobId)`.
    pub fn create(
        &mut self,
        req: &CreateStore,
        job_duration: Duration,
        job_failure: Option<String>,
        list_delay: Duration,
        now: Instant,
    ) -> (i32, i64) {
        let client_id = self.next_client_id;
        self.next_client_id += 1;
        let job_id = self.next_job_id;
        self.next_job_id += 1;
        let name = req.bucket.client_name.trim().to_string();
        self.stores.insert(
            client_id,
            Store {
                client_id,
                name: name.clone(),
                plan_id: req.plan.plan_id,
                plan_name: req.plan.plan_name.clone(),
                endpoints: req.cvs3_endpoints.iter().map(|e| e.client_id).collect(),
                owners: req.owners.iter().map(|o| o.user_id).collect(),
                user_groups: req.user_groups.iter().map(|g| g.user_group_id).collect(),
                job_id,
                retired: false,
                listed_from: now + list_delay,
            },
        );
        self.jobs.insert(
            job_id,
            JobRecord {
                id: job_id,
                client_id,
                client_name: name,
                started: now,
                started_epoch: jiff::Timestamp::now().as_second(),
                duration: job_duration,
                failure: job_failure,
            },
        );
        (client_id, job_id)
    }

    /// The vaults a list shows at `now`: not retired, past the list's
    /// delay, by id.
    pub fn listed(&self, now: Instant) -> impl Iterator<Item = &Store> {
        self.stores
            .values()
            .filter(move |s| !s.retired && s.listed_from <= now)
    }

    /// Retires client `id`; false when there is no such client.
    pub fn retire(&mut self, id: i32) -> bool {
        match self.stores.get_mut(&id) {
            Some(store) => {
                store.retired = true;
                true
            }
            None => false,
        }
    }

    /// `GET Client/{id}`'s entry for client `id`, retired or not: the
    /// entity and `clientProps.IsDeletedClient`.
    pub fn client_properties(&self, id: i32) -> Option<Value> {
        let store = self.stores.get(&id)?;
        Some(json!({
            "client": {"clientEntity": {
                "clientId": id, "clientName": store.name, "_type_": 3
            }},
            "clientProps": {"IsDeletedClient": store.retired},
        }))
    }

    /// Deletes client `id`; false when there is no such client.
    pub fn delete(&mut self, id: i32) -> bool {
        self.stores.remove(&id).is_some()
    }

    /// `GET Job/{id}`'s `jobSummary`.
    pub fn job_summary(&self, id: i64, now: Instant) -> Option<Value> {
        let job = self.jobs.get(&id)?;
        let state = job.state(now);
        let updated = match state.end_epoch {
            0 => jiff::Timestamp::now().as_second(),
            end => end,
        };
        Some(json!({
            "jobId": job.id,
            "status": state.status,
            "percentComplete": state.percent,
            "pendingReason": state.reason,
            "jobStartTime": job.started_epoch,
            "jobEndTime": state.end_epoch,
            "lastUpdateTime": updated,
            "localizedOperationName": "Install Software",
            "jobType": "Install Software",
            "appTypeName": "",
            "subclient": {"clientName": job.client_name, "clientId": job.client_id},
        }))
    }

    /// `POST JobDetails`'s `job`.
    pub fn job_detail(&self, id: i64, now: Instant) -> Option<Value> {
        let job = self.jobs.get(&id)?;
        let state = job.state(now);
        Some(json!({
            "jobDetail": {
                "generalInfo": {
                    "jobId": job.id,
                    "status": state.status,
                    "jobStartTime": job.started_epoch,
                    "jobEndTime": state.end_epoch,
                    "operationType": "Install Software",
                },
                "progressInfo": {"percentComplete": state.percent, "reasonForJobDelay": state.reason},
                "attemptsInfo": [],
            }
        }))
    }
}

#[cfg(test)]
#[path = "commcell_tests.rs"]
mod tests;
