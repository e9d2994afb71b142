//! [`S3VaultApi`] on a Command Center: the S3-vault create of seed 002, the
//! paginated list, the job read, the client read that sees a retired
//! vault, and the inferred retire-then-delete.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;

use super::client::{Call, CommvaultClient, CommvaultConnection};
use super::errors;
use super::wire::{
    Bucket, ClientPropertiesResponse, ClientRef, CreateResponse, CreateStore, GROUP_TYPE, GroupRef,
    JobList, PlanRef, StoreList, USER_TYPE, UserRef,
};
use super::{CreatedS3Vault, Job, NewS3Vault, S3Vault, S3VaultApi, S3VaultClient};
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::listing::Tally;
use crate::provider::metrics::ProviderMetrics;
use crate::provider::snapshot::{Listed, Snapshot};

/// How many stores one list page asks for.
pub const PAGE: usize = 100;
/// Pages read at most, so a server that ignores `start` cannot loop us.
const MAX_PAGES: usize = 1000;

/// S3 vaults through one Command Center session.
pub struct CommvaultVaults {
    client: CommvaultClient,
    /// The last list of every S3 vault, which answers every vault's drift
    /// check: Commvault has no read of one S3 vault, so without it each
    /// check would list them all.
    snapshot: Snapshot<S3Vault>,
}

impl CommvaultVaults {
    pub fn new(
        conn: CommvaultConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            client: CommvaultClient::new(conn, metrics, budget)?,
            snapshot: Snapshot::default(),
        })
    }

    /// A client outside any ProviderConfig: no rate budget (tests, tools).
    pub fn unbudgeted(
        conn: CommvaultConnection,
        metrics: Arc<ProviderMetrics>,
    ) -> Result<Self, ProviderError> {
        use crate::provider::budget::{BudgetLimits, BudgetMetrics};
        let budget = RateBudget::new(
            "unlimited",
            BudgetLimits::UNLIMITED,
            BudgetMetrics::default(),
        );
        Self::new(conn, metrics, Arc::new(budget))
    }

    /// The session, for calls outside the trait (logout in tests).
    pub fn client(&self) -> &CommvaultClient {
        &self.client
    }

    /// Retires the vault's client unless `retired`, then deletes it.
    async fn delete_client(&self, client_id: i64, retired: bool) -> Result<(), ProviderError> {
        // Inferred, not documented for S3 vaults: the vault is a client
        // entity, and cvpysdk retires a client with `DELETE Client/{id}/Retire`
        // and then removes it with `DELETE Client/{id}?forceDelete=1`. A
        // client found retired has only the second step left.
        let what = format!("S3 vault client {client_id}");
        let retire_path = format!("Client/{client_id}/Retire");
        let delete_path = format!("Client/{client_id}?forceDelete=1");
        let steps = [
            ("retire_client", &retire_path),
            ("delete_client", &delete_path),
        ];
        for (operation, path) in steps.into_iter().skip(usize::from(retired)) {
            let call = Call {
                operation,
                method: Method::DELETE,
                path,
                body: None,
                what: what.clone(),
            };
            let answer = match self.client.authorized(&call).await {
                // Retired and deleted already: what a delete wants.
                Err(e) if e.is_not_found() => return Ok(()),
                other => other?,
            };
            check_client_answer(&answer.body)?;
        }
        Ok(())
    }
}

/// The create body of seed 002 for `vault`.
pub fn create_body(vault: &NewS3Vault) -> CreateStore {
    CreateStore {
        bucket: Bucket {
            client_name: vault.name.clone(),
        },
        plan: PlanRef {
            plan_id: vault.plan_id,
            plan_name: vault.plan_name.clone(),
        },
        cvs3_endpoints: vault
            .endpoints
            .iter()
            .map(|(id, name)| ClientRef {
                client_id: *id,
                client_name: name.clone(),
            })
            .collect(),
        owners: vault
            .owners
            .iter()
            .map(|&user_id| UserRef {
                user_id,
                type_: USER_TYPE,
            })
            .collect(),
        user_groups: vault
            .user_groups
            .iter()
            .map(|&user_group_id| GroupRef {
                user_group_id,
                type_: GROUP_TYPE,
            })
            .collect(),
        rotate_keys: vault.rotate_keys,
    }
}

/// The created vault from a 2xx create answer, or the refusal it carries.
pub fn read_created(name: &str, answer: CreateResponse) -> Result<CreatedS3Vault, ProviderError> {
    let Some(outcome) = answer.response else {
        let code = answer.error_code.unwrap_or(super::wire::Code::Number(-1));
        return Err(errors::create_refused(&code, answer.error_message));
    };
    match &outcome.error_code {
        Some(code) if !code.is_ok() => {
            return Err(errors::create_refused(code, outcome.error_message));
        }
        _ => {}
    }
    let entity = outcome.entity.ok_or_else(|| ProviderError::Transient {
        message: "the S3 vault create answer names no client entity".into(),
    })?;
    let (job_id, job_refused) = match answer.add_endpoint_job {
        Some(job) => {
            let refused = job
                .response
                .filter(|r| r.error_code.as_ref().is_some_and(|c| !c.is_ok()))
                .map(|r| {
                    r.error_message
                        .unwrap_or_else(|| "the endpoint job did not start".into())
                });
            (job.job_id.filter(|&id| id > 0), refused)
        }
        None => (None, None),
    };
    Ok(CreatedS3Vault {
        vault: S3Vault {
            client_id: i64::from(entity.client_id),
            name: entity.client_name.unwrap_or_else(|| name.to_string()),
            plan_name: None,
        },
        job_id,
        job_refused,
    })
}

#[async_trait]
impl S3VaultApi for CommvaultVaults {
    async fn create(&self, vault: &NewS3Vault) -> Result<CreatedS3Vault, ProviderError> {
        let mut call = self
            .client
            .post("create_s3_vault", "V4/CVS3Store", &create_body(vault))?;
        call.what = format!("S3 vault {}", vault.name);
        let answer = self.client.authorized(&call).await?;
        let parsed: CreateResponse = serde_json::from_slice(&answer.body)
            .map_err(|e| errors::unreadable("V4/CVS3Store", &e))?;
        let created = read_created(&vault.name, parsed)?;
        self.snapshot.written(&created.vault.client_id.to_string());
        Ok(created)
    }

    async fn list(&self) -> Result<Vec<S3Vault>, ProviderError> {
        let mut vaults = Vec::new();
        let mut tally = Tally::new("S3 vaults");
        for page in 0..MAX_PAGES {
            let path = format!(
                "V4/cvS3Stores?hardRefresh=true&start={}&limit={PAGE}&fl=overview",
                page * PAGE
            );
            let call = Call {
                operation: "list_s3_vaults",
                method: Method::GET,
                path: &path,
                body: None,
                what: "S3 vaults".into(),
            };
            let answer = self.client.authorized(&call).await?;
            let list: StoreList = serde_json::from_slice(&answer.body)
                .map_err(|e| errors::unreadable("V4/cvS3Stores", &e))?;
            let got = list.stores.len();
            tally.page(got, answer.body.len())?;
            vaults.extend(list.stores.into_iter().filter_map(|s| {
                Some(S3Vault {
                    client_id: s.client_id?,
                    name: s.name?,
                    plan_name: s.plan_name,
                })
            }));
            let total = list.total_records.map_or(usize::MAX, |t| t as usize);
            if got < PAGE || vaults.len() >= total {
                break;
            }
        }
        Ok(vaults)
    }

    async fn job(&self, id: i64) -> Result<Option<Job>, ProviderError> {
        let path = format!("Job/{id}");
        let call = Call {
            operation: "get_job",
            method: Method::GET,
            path: &path,
            body: None,
            what: format!("job {id}"),
        };
        let answer = match self.client.authorized(&call).await {
            Err(e) if e.is_not_found() => return Ok(None),
            other => other?,
        };
        let list: JobList =
            serde_json::from_slice(&answer.body).map_err(|e| errors::unreadable("Job", &e))?;
        let summary = list.jobs.into_iter().find_map(|j| j.job_summary);
        Ok(summary.map(|s| Job {
            id: s.job_id.unwrap_or(id),
            status: s.status.unwrap_or_else(|| "Unknown".into()),
            percent_complete: s.percent_complete.map(|p| p.round() as i64),
            reason: s.pending_reason.filter(|r| !r.trim().is_empty()),
        }))
    }

    async fn read_client(&self, client_id: i64) -> Result<Option<S3VaultClient>, ProviderError> {
        let path = format!("Client/{client_id}");
        let call = Call {
            operation: "get_client",
            method: Method::GET,
            path: &path,
            body: None,
            what: format!("S3 vault client {client_id}"),
        };
        let answer = match self.client.authorized(&call).await {
            Err(e) if e.is_not_found() => return Ok(None),
            other => other?,
        };
        let read: ClientPropertiesResponse =
            serde_json::from_slice(&answer.body).map_err(|e| errors::unreadable("Client", &e))?;
        Ok(read.client_properties.into_iter().next().map(|p| {
            let entity = p.client.client_entity;
            S3VaultClient {
                client_id: entity.client_id.unwrap_or(client_id),
                name: entity.client_name.unwrap_or_default(),
                retired: p.client_props.is_deleted_client.unwrap_or(false),
            }
        }))
    }

    async fn listed(
        &self,
        client_id: i64,
        max_age: std::time::Duration,
    ) -> Result<Listed<S3Vault>, ProviderError> {
        let list = || async {
            let vaults = self.list().await?;
            Ok(vaults
                .into_iter()
                .map(|v| (v.client_id.to_string(), v))
                .collect())
        };
        self.snapshot
            .lookup(&client_id.to_string(), max_age, list)
            .await
    }

    async fn delete(&self, client_id: i64, retired: bool) -> Result<(), ProviderError> {
        let result = self.delete_client(client_id, retired).await;
        self.snapshot.written(&client_id.to_string());
        result
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        let call = Call {
            operation: "list_s3_vaults",
            method: Method::GET,
            path: "V4/cvS3Stores?start=0&limit=1&fl=overview",
            body: None,
            what: "S3 vaults".into(),
        };
        self.client.authorized(&call).await.map(|_| ())
    }
}

/// The body of a retire or delete: `{"response":{"errorCode"}}` or
/// `{"response":[{"errorCode","errorString"}]}`; a non-zero code is a refusal.
fn check_client_answer(body: &[u8]) -> Result<(), ProviderError> {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let response = &value["response"];
    let entry = match response {
        serde_json::Value::Array(entries) => entries.first().unwrap_or(&serde_json::Value::Null),
        other => other,
    };
    match entry["errorCode"].as_i64() {
        Some(code) if code != 0 => Err(ProviderError::Invalid {
            code: format!("errorCode {code}"),
            message: entry["errorString"]
                .as_str()
                .unwrap_or("Commvault refused to retire or delete the client")
                .to_string(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::commvault::wire::CreateResponse;

    fn parse(json: &str) -> CreateResponse {
        serde_json::from_str(json).expect("parses")
    }

    #[test]
    fn a_refused_retire_or_delete_is_an_error() {
        assert!(check_client_answer(br#"{"response":{"errorCode":0}}"#).is_ok());
        assert!(check_client_answer(br#"{"response":[{"errorCode":0}]}"#).is_ok());
        let err = check_client_answer(br#"{"response":[{"errorCode":5,"errorString":"in use"}]}"#)
            .expect_err("refused");
        assert!(err.to_string().contains("in use"));
    }

    #[test]
    fn the_create_body_is_seed_002s_shape() {
        let body = create_body(&NewS3Vault {
            name: "team-a-s3".into(),
            plan_id: 3,
            plan_name: "s3-plan".into(),
            endpoints: vec![(2, None)],
            owners: vec![4],
            user_groups: vec![],
            rotate_keys: Some(false),
        });
        assert_eq!(
            serde_json::to_value(&body).expect("json"),
            serde_json::json!({"bucket":{"clientName":"team-a-s3"},"plan":{"planId":3,"planName":"s3-plan"},
                "cvs3Endpoints":[{"clientId":2}],"owners":[{"userId":4,"__type__":13}],"rotateKeys":false})
        );
    }

    #[test]
    fn success_needs_error_code_zero_even_on_http_200() {
        let ok = parse(
            r#"{"response":{"entity":{"clientId":41,"clientName":"v"},"errorCode":0},
                "addEndpointJob":{"jobId":9001,"response":{"errorCode":"NO_ERROR"}}}"#,
        );
        let created = read_created("v", ok).expect("created");
        assert_eq!(created.vault.client_id, 41);
        assert_eq!(created.job_id, Some(9001));
        assert_eq!(created.job_refused, None);

        let refused = parse(r#"{"response":{"errorCode":2,"errorMessage":"plan is busy"}}"#);
        let err = read_created("v", refused).expect_err("refused");
        assert!(err.to_string().contains("plan is busy"), "{err}");
        assert!(!err.leaves_doubt());
    }

    #[test]
    fn an_endpoint_job_that_did_not_start_is_kept_with_its_reason() {
        let answer = parse(
            r#"{"response":{"entity":{"clientId":41},"errorCode":0},
                "addEndpointJob":{"jobId":0,"response":{"errorCode":"INVALID_ENTITY_ID","errorMessage":"client 7 is offline"}}}"#,
        );
        let created = read_created("v", answer).expect("created");
        assert_eq!(created.job_id, None);
        assert_eq!(created.job_refused.as_deref(), Some("client 7 is offline"));
    }
}
