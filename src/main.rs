//! `coffer`: the operator. Only what a cluster runs is linked in: the
//! emulator, the local control plane and the CRD generator live in
//! `coffer-dev` (src/bin/coffer-dev.rs), since the kernel keeps most of a
//! binary's code resident and its size is part of the operator's memory.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use coffer::telemetry::{self, LogFormat};

#[derive(Parser)]
#[command(
    name = "coffer",
    version,
    about = "Backup vaults, shares and agencies, declared in Kubernetes"
)]
struct Cli {
    /// Log format.
    #[arg(long, env = "COFFER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controllers until interrupted.
    Run(coffer::controller::RunArgs),
}

fn main() -> ExitCode {
    // Before the runtime's threads exist, so that none gets an arena of its own.
    coffer::controller::heap::tune();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("coffer: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let result = match cli.command {
        Command::Run(args) => coffer::controller::run(args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coffer: {e}");
            ExitCode::FAILURE
        }
    }
}
