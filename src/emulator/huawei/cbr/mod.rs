//! Huawei Cloud Backup and Recovery (CBR) vaults: the wire schema, the
//! validation rules, the stateful store and the HTTP handlers.

pub mod handlers;
pub mod list;
pub mod model;
pub mod store;
pub mod validate;
pub mod view;
pub mod wire;
