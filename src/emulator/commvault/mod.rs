//! Commvault as the emulator serves it, under its own base path
//! ([`handlers::BASE`], a Command Center's `/commandcenter/api`): login, session
//! renewal and logout, the S3-vault create and list, endpoint jobs, and the
//! client retire and delete; mirroring `src/provider/commvault/`. Paths
//! under the base are matched without regard to case, as Commvault does.
//! The server mounts [`handlers::router`] and [`admin::router`].

pub mod admin;
pub mod commcell;
pub mod handlers;
pub mod sessions;
pub mod settings;
pub mod state;
