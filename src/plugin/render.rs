//! Rows as kubectl users read them: a table (colour on a terminal, none when
//! piped), JSON or YAML. Pure: output goes to the writer given.

use std::io::{self, Write};

use serde::Serialize;

use super::fleet::{Line, Row, State, Summary};

/// `-o table|json|yaml`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// `3m20s`, `2h5m`, `4d3h`: kubectl's AGE style.
pub fn age(seconds: Option<i64>) -> String {
    let Some(s) = seconds else {
        return "-".into();
    };
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// `text` in `state`'s colour when `colour`, else as it is.
pub fn paint(text: &str, state: State, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let code = match state {
        State::Failing => "31",
        State::Progressing => "33",
        State::Unknown => "2",
        State::Ready => "32",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Left-aligned columns, two spaces apart, as kubectl prints them. Widths
/// count characters of the plain text; colour goes around the padded cell.
fn table(
    out: &mut dyn Write,
    header: &[&str],
    rows: &[(Vec<String>, Option<State>)],
    colour: bool,
) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for (cells, _) in rows {
        for (w, cell) in widths.iter_mut().zip(cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let last = cells.len().saturating_sub(1);
        cells
            .into_iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| match i == last {
                true => c,
                false => format!("{c:<w$}"),
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    writeln!(
        out,
        "{}",
        line(header.iter().map(|h| h.to_string()).collect())
    )?;
    for (cells, state) in rows {
        let text = line(cells.clone());
        match state {
            Some(state) => writeln!(out, "{}", paint(&text, *state, colour))?,
            None => writeln!(out, "{text}")?,
        }
    }
    Ok(())
}

/// `value` as pretty JSON or YAML.
pub fn structured<T: Serialize>(out: &mut dyn Write, value: &T, format: Format) -> io::Result<()> {
    let text = match format {
        Format::Yaml => serde_yaml::to_string(value).map_err(io::Error::other)?,
        _ => serde_json::to_string_pretty(value).map_err(io::Error::other)? + "\n",
    };
    out.write_all(text.as_bytes())
}

/// `kubectl coffer status`: the rows and a summary line.
pub fn status(
    out: &mut dyn Write,
    rows: &[Row],
    summary: &Summary,
    format: Format,
    colour: bool,
) -> io::Result<()> {
    if format != Format::Table {
        #[derive(Serialize)]
        struct Status<'a> {
            items: &'a [Row],
            summary: &'a Summary,
        }
        return structured(
            out,
            &Status {
                items: rows,
                summary,
            },
            format,
        );
    }
    let header = [
        "KIND",
        "NAMESPACE",
        "NAME",
        "PROVIDER",
        "READY",
        "SYNCED",
        "REASON",
        "FOR",
    ];
    let cells: Vec<(Vec<String>, Option<State>)> = rows
        .iter()
        .map(|r| {
            let cells = vec![
                r.kind.clone(),
                r.namespace.clone(),
                r.name.clone(),
                r.provider.clone(),
                or_dash(&r.ready),
                or_dash(&r.synced),
                or_dash(&r.reason),
                age(r.for_seconds),
            ];
            (cells, Some(r.state))
        })
        .collect();
    table(out, &header, &cells, colour)?;
    writeln!(out, "\n{}", summary_line(summary))
}

/// `12 objects: 9 ready, 2 failing, 1 progressing; failing: 2 SecretNotFound`.
pub fn summary_line(s: &Summary) -> String {
    let states: Vec<String> = ["ready", "failing", "progressing", "unknown"]
        .iter()
        .filter_map(|k| s.by_state.get(*k).map(|n| format!("{n} {k}")))
        .collect();
    let mut text = format!("{} objects: {}", s.total, states.join(", "));
    if !s.failing_by_reason.is_empty() {
        let reasons: Vec<String> = s
            .failing_by_reason
            .iter()
            .map(|(reason, n)| format!("{n} {reason}"))
            .collect();
        text.push_str(&format!("; failing: {}", reasons.join(", ")));
    }
    text
}

fn or_dash(s: &str) -> String {
    match s.is_empty() {
        true => "-".into(),
        false => s.to_string(),
    }
}

/// `kubectl coffer plan` and `drift`: one line per call or field.
pub fn lines(out: &mut dyn Write, lines: &[Line], what: &str, format: Format) -> io::Result<()> {
    if format != Format::Table {
        return structured(out, &lines, format);
    }
    if lines.is_empty() {
        return writeln!(out, "no {what}");
    }
    let header = ["KIND", "NAMESPACE", "NAME", &what.to_uppercase()];
    let cells: Vec<(Vec<String>, Option<State>)> = lines
        .iter()
        .map(|l| {
            (
                vec![
                    l.kind.clone(),
                    l.namespace.clone(),
                    l.name.clone(),
                    l.text.clone(),
                ],
                None,
            )
        })
        .collect();
    table(out, &header, &cells, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::fleet::summary;

    fn row(name: &str, state: State) -> Row {
        Row {
            kind: "BackupVault".into(),
            namespace: "team-a".into(),
            name: name.into(),
            provider: "cloud".into(),
            ready: "True".into(),
            synced: "False".into(),
            state,
            reason: "Throttled".into(),
            message: "slow down".into(),
            for_seconds: Some(125),
        }
    }

    #[test]
    fn ages_read_as_kubectl_writes_them() {
        assert_eq!(age(Some(59)), "59s");
        assert_eq!(age(Some(125)), "2m5s");
        assert_eq!(age(Some(7_500)), "2h5m");
        assert_eq!(age(Some(90_000)), "1d1h");
        assert_eq!(age(None), "-");
    }

    #[test]
    fn the_table_has_the_columns_and_no_colour_when_piped() {
        let rows = [row("vault-with-a-long-name", State::Failing)];
        let mut out = Vec::new();
        status(&mut out, &rows, &summary(&rows), Format::Table, false).expect("written");
        let text = String::from_utf8(out).expect("utf-8");
        let mut lines = text.lines();
        let header = lines.next().expect("a header");
        assert!(
            header.starts_with("KIND         NAMESPACE  NAME                    PROVIDER"),
            "{header}"
        );
        assert!(text.contains("Throttled  2m5s"), "{text}");
        assert!(!text.contains('\x1b'), "colour in a pipe: {text:?}");
        assert!(
            text.contains("1 objects: 1 failing; failing: 1 Throttled"),
            "{text}"
        );
    }

    #[test]
    fn a_terminal_gets_colour() {
        let rows = [row("v", State::Failing)];
        let mut out = Vec::new();
        status(&mut out, &rows, &summary(&rows), Format::Table, true).expect("written");
        assert!(String::from_utf8(out).expect("utf-8").contains("\x1b[31m"));
    }

    #[test]
    fn json_carries_every_field_and_the_summary() {
        let rows = [row("v", State::Failing)];
        let mut out = Vec::new();
        status(&mut out, &rows, &summary(&rows), Format::Json, false).expect("written");
        let value: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(value["items"][0]["reason"], "Throttled");
        assert_eq!(value["items"][0]["state"], "failing");
        assert_eq!(value["items"][0]["forSeconds"], 125);
        assert_eq!(value["summary"]["failingByReason"]["Throttled"], 1);
    }
}
