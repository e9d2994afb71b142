//! Rackspace as the emulator serves it, mirroring `src/provider/rackspace/`:
//! Identity v2.0 tokens with a catalog pointing back at the emulator, Cloud
//! Backup agents and their vaults' encryption, the documented agent
//! registration (`POST`/`DELETE agents`: real agents that report for
//! themselves), and a simulated agent that applies the encryption requests
//! of the agents the emulator registered itself and reports them through
//! seed 000's endpoint. The server mounts [`routes::router`] and
//! [`admin::router`], and runs [`agent_sim`].

pub mod admin;
pub mod agent_sim;
pub mod fault;
pub mod gate;
pub mod handlers;
pub mod identity;
pub mod registration;
pub mod routes;
pub mod settings;
pub mod state;
pub mod store;
