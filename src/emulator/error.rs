//! Why the emulator could not start or run.

use std::net::SocketAddr;

use super::faults::FaultError;
use super::tls::TlsError;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("invalid fault settings: {0}")]
    Faults(#[from] FaultError),
    #[error("cannot listen on {addr}: {source}; free the port or pass another --listen address")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the emulator's server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}
