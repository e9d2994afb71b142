//! coffer: a Kubernetes operator that makes backup vaults, backup shares and
//! IAM agencies on Huawei Cloud, Rackspace and Commvault match their manifests.

pub mod api;
pub mod cli;
pub mod controller;
pub mod controlplane;
pub mod crdgen;
pub mod emulator;
pub mod fence;
pub mod plugin;
pub mod process;
pub mod provider;
pub mod telemetry;

// Unit tests run on the allocator the binaries use (see `controller::heap`).
#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: controller::heap::Allocator = controller::heap::Allocator;
