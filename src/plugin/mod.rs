//! `kubectl coffer`: the fleet from the terminal. The `coffer` binary acts
//! as this kubectl plugin when it is invoked as `kubectl-coffer` (a link or
//! copy of that name on `PATH` is what kubectl's plugin discovery finds).
//! It uses the current kubeconfig and context, as kubectl does.
//!
//! - `status`: every coffer object, failing first, with a summary line.
//! - `plan` / `drift`: every pending provider call or drifted field, one a
//!   line; `--exit-code` exits 1 when there is any, for CI gates.
//! - `reconcile` / `pause` / `resume KIND/NAME`: set an annotation and wait
//!   until coffer answers it in `status.lastHandledReconcileAt`.
//! - `trace KIND/NAME`: one object as a tree from spec to cloud; with
//!   `--exit-code` exits 1 when a node of it fails (a missing config, an
//!   unlabelled Secret), as `plan` and `drift` do for what they find.
//!
//! Exit codes: 0 done (nothing found with `--exit-code`), 1 something found
//! with `--exit-code`, 2 an error (the traced object itself not found among
//! them: there is nothing to show).

pub mod cluster;
pub mod fleet;
pub mod render;
pub mod trace;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::api::managed::{PAUSED_ANNOTATION, RECONCILE_REQUESTED_ANNOTATION};
use crate::cli::parse_duration;
use cluster::{Error, Target};
use render::Format;

/// Whether the process was started as the kubectl plugin.
pub fn invoked_as_plugin(argv0: &str) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "kubectl-coffer" || n == "kubectl-coffer.exe")
}

#[derive(Parser)]
#[command(
    name = "kubectl coffer",
    version,
    about = "coffer's objects across the fleet: status, plans, drift, and a reconcile on demand"
)]
struct Cli {
    /// The kubeconfig to use instead of $KUBECONFIG or ~/.kube/config.
    #[arg(long, global = true)]
    kubeconfig: Option<String>,
    /// The kubeconfig context to use instead of the current one.
    #[arg(long, global = true)]
    context: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Scope {
    /// The namespace; the context's when not given.
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    output: Format,
}

#[derive(Subcommand)]
enum Command {
    /// Every coffer object, failing ones first, with a summary line.
    Status {
        #[command(flatten)]
        scope: Scope,
        /// Print again whenever something changes.
        #[arg(short = 'w', long)]
        watch: bool,
    },
    /// Every provider call pending in `status.plan`, one a line.
    Plan {
        #[command(flatten)]
        scope: Scope,
        /// Exit 1 when any call is pending.
        #[arg(long)]
        exit_code: bool,
    },
    /// Every field that differs from its cloud in `status.drift`, one a line.
    Drift {
        #[command(flatten)]
        scope: Scope,
        /// Exit 1 when any field drifted.
        #[arg(long)]
        exit_code: bool,
    },
    /// Reconcile KIND/NAME now, and print how it came out.
    Reconcile(Change),
    /// Stop every provider call for KIND/NAME until `resume`.
    Pause(Change),
    /// Let coffer act on KIND/NAME again.
    Resume(Change),
    /// KIND/NAME as a tree: its ProviderConfig, that one's Secret (key
    /// names only) and CA, the cloud object, a share's other side, Events.
    Trace {
        /// `backupvault/NAME`, `bs/NAME`, `cpc/NAME`, ...
        object: String,
        /// The object's namespace; the context's when not given.
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Output format: json and yaml print the tree as data.
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
        output: Format,
        /// Exit 1 when any node of the tree is failing.
        #[arg(long)]
        exit_code: bool,
        /// Print again whenever a node changes (not with --exit-code).
        #[arg(short = 'w', long, conflicts_with = "exit_code")]
        watch: bool,
    },
}

#[derive(Args)]
struct Change {
    /// `backupvault/NAME`, `bv/NAME`, `agency/NAME`, ...
    object: String,
    /// The object's namespace; the context's when not given.
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// How long to wait for coffer's answer.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    timeout: Duration,
}

/// Runs the plugin with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: no async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let (client, context_ns) =
        cluster::connect(cli.kubeconfig.as_deref(), cli.context.as_deref()).await?;
    let scoped = |scope: &Scope| match scope.all_namespaces {
        true => None,
        false => Some(
            scope
                .namespace
                .clone()
                .unwrap_or_else(|| context_ns.clone()),
        ),
    };
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Status { scope, watch } => {
            let ns = scoped(&scope);
            let colour = colour();
            let mut shown = None;
            loop {
                let objects = cluster::objects(&client, ns.as_deref()).await?;
                let now = Timestamp::now();
                let mut rows: Vec<_> = objects.iter().map(|(k, o)| fleet::row(k, o, now)).collect();
                fleet::sort(&mut rows);
                let summary = fleet::summary(&rows);
                // In a watch, a new print only when a state or reason moved.
                let key: Vec<_> = rows
                    .iter()
                    .map(|r| (r.name.clone(), r.state, r.reason.clone()))
                    .collect();
                if shown.as_ref() != Some(&key) {
                    render::status(&mut out, &rows, &summary, scope.output, colour).map_err(io)?;
                    out.flush().map_err(io)?;
                    shown = Some(key);
                }
                if !watch {
                    return Ok(ExitCode::SUCCESS);
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        Command::Plan { scope, exit_code } => {
            let objects = cluster::objects(&client, scoped(&scope).as_deref()).await?;
            let lines: Vec<_> = objects
                .iter()
                .flat_map(|(k, o)| fleet::plan_lines(k, o))
                .collect();
            render::lines(&mut out, &lines, "plan", scope.output).map_err(io)?;
            Ok(found(exit_code, !lines.is_empty()))
        }
        Command::Drift { scope, exit_code } => {
            let objects = cluster::objects(&client, scoped(&scope).as_deref()).await?;
            let lines: Vec<_> = objects
                .iter()
                .flat_map(|(k, o)| fleet::drift_lines(k, o))
                .collect();
            render::lines(&mut out, &lines, "drift", scope.output).map_err(io)?;
            Ok(found(exit_code, !lines.is_empty()))
        }
        Command::Reconcile(change) => {
            act(&client, &context_ns, change, "reconcile", &mut out).await
        }
        Command::Pause(change) => act(&client, &context_ns, change, "pause", &mut out).await,
        Command::Resume(change) => act(&client, &context_ns, change, "resume", &mut out).await,
        Command::Trace {
            object,
            namespace,
            output,
            exit_code,
            watch,
        } => {
            let target = target(&object, namespace.unwrap_or(context_ns))?;
            let mut shown = None;
            loop {
                let facts = trace::fetch::facts(&client, &target).await?;
                let tree = trace::build(&facts);
                // In a watch, a new print only when a node moved, not
                // when an Event merely grew older.
                let key = tree.change_key();
                if shown.as_ref() != Some(&key) {
                    if shown.is_some() {
                        writeln!(out).map_err(io)?;
                    }
                    trace::render::trace(&mut out, &tree, output, colour()).map_err(io)?;
                    out.flush().map_err(io)?;
                    shown = Some(key);
                }
                if !watch {
                    return Ok(found(exit_code, tree.any_failing()));
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Colour only on a terminal: piped output is read by programs and `grep`.
fn colour() -> bool {
    std::io::stdout().is_terminal()
}

/// `KIND/NAME` in `namespace`.
fn target(object: &str, namespace: String) -> Result<Target, Error> {
    let (kind, name) = object
        .split_once('/')
        .ok_or_else(|| Error::UnknownKind(object.to_string()))?;
    Ok(Target {
        kind: cluster::kind_of(kind)?,
        namespace,
        name: name.to_string(),
    })
}

fn found(exit_code: bool, any: bool) -> ExitCode {
    match exit_code && any {
        true => ExitCode::from(1),
        false => ExitCode::SUCCESS,
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Kubeconfig(format!("cannot write the output: {e}"))
}

/// Sets the verb's annotations with a fresh reconcile token, waits for the
/// answer, and prints the object's row.
async fn act(
    client: &kube::Client,
    context_ns: &str,
    change: Change,
    verb: &'static str,
    out: &mut dyn Write,
) -> Result<ExitCode, Error> {
    let target = target(
        &change.object,
        change.namespace.unwrap_or_else(|| context_ns.to_string()),
    )?;
    let kind = target.kind;
    let token = Timestamp::now().to_string();
    let mut annotations = json!({RECONCILE_REQUESTED_ANNOTATION: token});
    match verb {
        "pause" => annotations[PAUSED_ANNOTATION] = json!("true"),
        "resume" => annotations[PAUSED_ANNOTATION] = Value::Null,
        _ => {}
    }
    let obj = cluster::annotate(client, &target, verb, annotations, &token, change.timeout).await?;
    let row = fleet::row(kind.name, &obj, Timestamp::now());
    writeln!(
        out,
        "{} {}/{}: Ready={} Synced={} {}: {}",
        kind.name,
        target.namespace,
        target.name,
        render_or(&row.ready),
        render_or(&row.synced),
        render_or(&row.reason),
        row.message
    )
    .map_err(io)?;
    Ok(ExitCode::SUCCESS)
}

fn render_or(s: &str) -> &str {
    match s.is_empty() {
        true => "-",
        false => s,
    }
}
