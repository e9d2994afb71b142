//! A trace as a tree on the terminal (each node coloured by its state when
//! stdout is one), or as JSON or YAML: the root [`Node`] as it is.

use std::io::{self, Write};

use super::{Node, Presence, Role};
use crate::plugin::fleet::State;
use crate::plugin::render::{Format, age, paint, structured};

/// Prints `root` in `format`.
pub fn trace(out: &mut dyn Write, root: &Node, format: Format, colour: bool) -> io::Result<()> {
    if format != Format::Table {
        return structured(out, root, format);
    }
    node(out, root, "", "", colour)
}

/// `Kind namespace/name  Ready=… Synced=…  Reason: message`.
pub fn head(n: &Node) -> String {
    // Why a node that is not the object's own part is in its tree.
    let why = match n.role {
        Role::OtherSide => "other side: ",
        Role::Vault => "accepts into: ",
        _ => "",
    };
    let mut text = match &n.namespace {
        Some(ns) => format!("{why}{} {ns}/{}", n.kind, n.name),
        None => format!("{why}{} {}", n.kind, n.name),
    };
    let conditions: Vec<String> = [("Ready", &n.ready), ("Synced", &n.synced)]
        .iter()
        .filter_map(|(t, s)| s.as_ref().map(|s| format!("{t}={s}")))
        .collect();
    if !conditions.is_empty() {
        text.push_str(&format!("  {}", conditions.join(" ")));
    }
    if n.presence == Presence::NotFound {
        text.push_str("  NOT FOUND");
    }
    match (n.reason.is_empty(), n.message.is_empty()) {
        (false, false) => text.push_str(&format!("  {}: {}", n.reason, n.message)),
        (false, true) => text.push_str(&format!("  {}", n.reason)),
        (true, false) => text.push_str(&format!("  {}", n.message)),
        (true, true) => {}
    }
    text
}

/// The lines under a node's head that are not nodes: key names, labels,
/// what the provider said, Events.
fn details(n: &Node) -> Vec<(String, Option<State>)> {
    let mut lines = Vec::new();
    if let Some(keys) = &n.keys {
        lines.push((format!("keys: {}", keys.join(", ")), None));
    }
    if let Some(labels) = &n.labels {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        lines.push((format!("labels: {}", labels.join(", ")), None));
    }
    if let Some(at) = &n.at_provider {
        lines.push((format!("atProvider: {at}"), None));
    }
    for e in &n.events {
        let state = (e.type_ == "Warning").then_some(State::Progressing);
        let count = match e.count {
            1 => String::new(),
            n => format!(" (x{n})"),
        };
        lines.push((
            format!(
                "{} ago  {}  {}{count}: {}",
                age(Some(e.age_seconds)),
                e.type_,
                e.reason,
                e.message
            ),
            state,
        ));
    }
    lines
}

/// `lead` goes before the head, `indent` before everything under it.
fn node(out: &mut dyn Write, n: &Node, lead: &str, indent: &str, colour: bool) -> io::Result<()> {
    writeln!(out, "{lead}{}", paint(&head(n), n.state, colour))?;
    let more = match n.children.is_empty() {
        true => "  ",
        false => "│ ",
    };
    for (line, state) in details(n) {
        let line = match state {
            Some(state) => paint(&line, state, colour),
            None => line,
        };
        writeln!(out, "{indent}{more} {line}")?;
    }
    let last = n.children.len().saturating_sub(1);
    for (i, child) in n.children.iter().enumerate() {
        let (branch, below) = match i == last {
            true => ("└─ ", "   "),
            false => ("├─ ", "│  "),
        };
        node(
            out,
            child,
            &format!("{indent}{branch}"),
            &format!("{indent}{below}"),
            colour,
        )?;
    }
    Ok(())
}
