//! How a coffer binary runs its command: on a multi-threaded runtime, with
//! a failure printed as `<binary>: <error>` and turned into the exit status.

use std::future::Future;
use std::process::ExitCode;

/// Why a command failed, as the binary prints it.
pub type Failure = Box<dyn std::error::Error>;

/// Runs `command` to completion on a new multi-threaded runtime.
pub fn run(binary: &str, command: impl Future<Output = Result<(), Failure>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{binary}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{binary}: {e}");
            ExitCode::FAILURE
        }
    }
}
