//! Huawei Cloud as the emulator serves it: IAM tokens and CBR vaults behind
//! one gateway, mirroring `src/provider/huawei/`. Huawei owns its settings
//! ([`settings`]) and its state ([`state`]); the server mounts
//! [`routes::router`] and [`admin::router`].

pub mod admin;
pub mod assume_role;
pub mod auth;
pub mod cbr;
pub mod error;
pub mod gate;
pub mod iam;
pub mod iam_agency;
pub mod iam_request;
pub mod identity;
pub mod routes;
pub mod settings;
pub mod state;
pub mod token;
pub mod token_answer;
