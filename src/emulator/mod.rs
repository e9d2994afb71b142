//! The provider emulator: a stateful stand-in for Huawei IAM (tokens) and CBR
//! (vaults), Rackspace Identity and Cloud Backup (agent vaults, with a
//! simulated agent), and a Commvault Command Center (S3 vaults and their
//! endpoint jobs, under `/commandcenter/api`), on one HTTP listener (and
//! the same routes over HTTPS with `--tls-listen`, see [`tls`]), strict
//! about requests the way the real services are, with fault injection and
//! request counters so controllers can be tested for retries, idempotency
//! and "exactly these calls".
//!
//! In-process use: `emulator::start(EmulatorConfig::default())` returns a
//! [`RunningEmulator`] whose `base_url()` serves both IAM and CBR, and whose
//! methods read the counters and request log or change the faults. The same
//! is available over HTTP under `/_emulator/`.
//!
//! Imports run one way. At the bottom, the parts every cloud shares and
//! that know no cloud: [`operation`], `query`, [`throttle`], [`faults`] (with
//! [`fault_rules`], faults aimed at one operation),
//! [`recorder`], `common` (faults and recorder behind their locks),
//! `observe` (the request log middleware), the shared `admin` routes and
//! [`tls`]. Above them each cloud (`huawei/`, `rackspace/`, [`commvault`])
//! owns its settings, its state, its routes behind its own gate, and its
//! admin routes. On top, `config` composes the clouds' settings into
//! [`EmulatorConfig`], `server` builds and mounts each cloud, and `running`
//! is the [`RunningEmulator`] handle.

pub(crate) mod admin;
pub(crate) mod common;
pub mod commvault;
mod config;
mod error;
pub mod fault_rules;
pub mod faults;
pub(crate) mod huawei;
pub(crate) mod observe;
pub mod operation;
pub(crate) mod query;
pub(crate) mod rackspace;
pub mod recorder;
mod running;
mod server;
pub mod throttle;
pub mod tls;

pub use commvault::settings::CommvaultSettings;
pub use config::{EmulatorArgs, EmulatorConfig};
pub use error::EmulatorError;
pub use fault_rules::{FaultRule, RuleFault};
pub use faults::{FaultConfig, FaultError, FaultKind};
pub use operation::Operation;
pub use rackspace::settings::{DEFAULT_RAX_AGENT_ID, RackspaceEmulatorConfig};
pub use rackspace::store::Behaviour as AgentBehaviour;
pub use recorder::{OperationCounter, RecordedRequest};
pub use running::RunningEmulator;
pub use server::{serve, start};
pub use throttle::ThrottleConfig;
pub use tls::{ServedCertificate, TlsConfig};
