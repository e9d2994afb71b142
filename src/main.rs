//! `coffer`: the operator, and (invoked as `kubectl-coffer`) its kubectl
//! plugin. Only what a cluster runs is linked in: the
//! emulator, the local control plane and the CRD generator live in
//! `coffer-dev` (src/bin/coffer-dev.rs), since the kernel keeps most of a
//! binary's code resident and its size is part of the operator's memory.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use coffer::process::Failure;
use coffer::telemetry::{self, LogArgs};

#[derive(Parser)]
#[command(
    name = "coffer",
    version,
    about = "Backup vaults, shares and agencies, declared in Kubernetes"
)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controllers until interrupted.
    Run(coffer::controller::RunArgs),
}

#[global_allocator]
static ALLOCATOR: coffer::controller::heap::Allocator = coffer::controller::heap::Allocator;

/// jemalloc reads its options from this symbol (see `heap::CONFIG`).
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: Conf = Conf(coffer::controller::heap::CONFIG.as_ptr());

/// A C string pointer, as jemalloc expects `malloc_conf`.
#[repr(transparent)]
struct Conf(*const u8);
// SAFETY: it points at a constant that is never written.
unsafe impl Sync for Conf {}

fn main() -> ExitCode {
    // Invoked as `kubectl-coffer`: the kubectl plugin, not the operator.
    if std::env::args()
        .next()
        .is_some_and(|argv0| coffer::plugin::invoked_as_plugin(&argv0))
    {
        return coffer::plugin::main();
    }
    coffer::process::run("coffer", run())
}

async fn run() -> Result<(), Failure> {
    let cli = Cli::parse();
    telemetry::init(cli.log.log_format);
    match cli.command {
        Command::Run(args) => coffer::controller::run(args).await.map_err(Into::into),
    }
}
