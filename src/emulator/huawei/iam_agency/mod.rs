//! Huawei IAM agencies and their role grants (`/v3.0/OS-AGENCY`,
//! `/v3.0/OS-INHERIT`, and every grant at once in
//! `/v3.0/OS-PERMISSION/role-assignments`), with the role and project
//! catalogs that resolve names to ids. Strict like the real service: the caller's own domain
//! only, unique names, known trust domains, set-semantics grants, and a
//! window after create in which a GET still answers 404.

pub mod auth;
pub mod catalog;
pub mod error;
pub mod handlers;
pub mod role_assignments;
pub mod routes;
pub mod store;
pub mod wire;

#[cfg(test)]
mod store_tests;
