//! Huawei Cloud Backup and Recovery (CBR) vaults: the wire schema, the
//! validation rules, the stateful store and the HTTP handlers.

pub mod backups;
pub mod handlers;
pub mod list;
pub mod model;
pub mod share_error;
pub mod share_handlers;
pub mod store;
pub mod validate;
pub mod view;
pub mod wire;
