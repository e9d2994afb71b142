//! The controllers, in floors that import only downward:
//!
//! - [`engine`]: the one reconcile every (kind, cloud) pair runs on, with
//!   what it does once for all of them (finalizer, adoption, crash-safe
//!   create, conditions, Events, backoff, status only on change, policies).
//!   It knows no kind, no cloud and no wiring.
//! - [`caches`], [`providers`], [`env`]: what a pair connects through — the
//!   watched ProviderConfigs, Secrets and ConfigMaps, and one provider
//!   session per ProviderConfig.
//! - the kinds ([`backup_vault`], [`backup_share`], [`agency`]), each with
//!   its (kind, cloud) pairs, and [`provider_config`], the ProviderConfig
//!   controller.
//! - [`wiring`]: `coffer run` and which kinds exist, with their watches,
//!   sweeps and metrics. Adding a kind touches the wiring and the kind's
//!   own folder.

pub mod agency;
pub mod backup_share;
pub mod backup_vault;
pub mod caches;
pub mod engine;
pub mod env;
pub mod provider_config;
pub mod providers;
pub mod wiring;

pub use engine::ReconcileError;
pub use env::{Context, Env};
pub use providers::{HuaweiApis, HuaweiFactory, ProviderFactory, Session};
pub use wiring::metrics::heap;
pub use wiring::{Error, Metrics, Readiness, RunArgs, Settings, leader, run, run_with};
