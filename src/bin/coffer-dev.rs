//! `coffer-dev`: what developing and testing coffer needs beside the
//! operator: the CRD and docs generators, the provider emulator and a
//! local control plane. Kept out of the `coffer` binary, which a cluster runs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use coffer::process::Failure;
use coffer::telemetry::{self, LogArgs};

#[derive(Parser)]
#[command(
    name = "coffer-dev",
    version,
    about = "coffer's CRD generator, provider emulator and local control plane"
)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the CRD YAML generated from the code into a directory.
    Crds {
        /// Where to write; `-` prints to standard output.
        #[arg(long, default_value = "crds")]
        out: PathBuf,
    },
    /// Write the generated pages of docs/ (the API reference and the
    /// condition reasons) into a directory.
    Docs {
        #[arg(long, default_value = "docs")]
        out: PathBuf,
    },
    /// Run a local etcd, kube-apiserver and kube-controller-manager with
    /// coffer's CRDs until interrupted.
    ControlPlane {
        /// Directory for state, logs and the kubeconfig.
        #[arg(long, default_value = ".demo/control-plane")]
        dir: PathBuf,
        /// Directory of CRD YAML to install.
        #[arg(long, default_value = "crds")]
        crds: PathBuf,
        /// Start no kube-controller-manager: deleted namespaces then stay
        /// Terminating and owned objects are never collected.
        #[arg(long, env = "COFFER_NO_CONTROLLER_MANAGER")]
        no_controller_manager: bool,
    },
    /// Run the provider emulator (Huawei IAM + CBR, Rackspace, Commvault)
    /// until interrupted.
    Emulator(Box<coffer::emulator::EmulatorArgs>),
}

fn main() -> ExitCode {
    coffer::process::run("coffer-dev", run())
}

async fn run() -> Result<(), Failure> {
    let cli = Cli::parse();
    telemetry::init(&cli.log);
    match cli.command {
        Command::Crds { out } => crds(&out),
        Command::Docs { out } => docs(&out),
        Command::ControlPlane {
            dir,
            crds,
            no_controller_manager,
        } => control_plane(&dir, &crds, !no_controller_manager).await,
        Command::Emulator(args) => coffer::emulator::serve(*args).await.map_err(Into::into),
    }
}

fn docs(out: &std::path::Path) -> Result<(), Failure> {
    for path in coffer::docgen::write_all(out)? {
        println!("{}", path.display());
    }
    Ok(())
}

fn crds(out: &std::path::Path) -> Result<(), Failure> {
    if out.as_os_str() == "-" {
        for (_, yaml) in coffer::crdgen::render_all()? {
            print!("---\n{yaml}");
        }
        return Ok(());
    }
    for path in coffer::crdgen::write_all(out)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

async fn control_plane(
    dir: &std::path::Path,
    crds: &std::path::Path,
    controller_manager: bool,
) -> Result<(), Failure> {
    let options = coffer::controlplane::Options {
        controller_manager,
        ..Default::default()
    };
    let cp = coffer::controlplane::ControlPlane::start_with(Some(dir), options).await?;
    let client = cp.client().await?;
    coffer::controlplane::crds::install(&client, &coffer::controlplane::crds::read_dir(crds)?)
        .await?;
    tracing::info!(
        url = cp.url(),
        kubeconfig = %cp.kubeconfig_path().display(),
        apiserver_ready_s = cp.start_times.apiserver.as_secs_f64(),
        controller_manager_ready_s = cp.start_times.controller_manager.as_secs_f64(),
        controller_manager = cp.has_controller_manager(),
        "control plane ready"
    );
    std::fs::write(dir.join("ready"), cp.url())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    let _ = std::fs::remove_file(dir.join("ready"));
    tracing::info!("stopping the control plane");
    Ok(())
}
