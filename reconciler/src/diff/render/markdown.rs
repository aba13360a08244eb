//! Markdown for a pull-request comment or a job summary: one table per kind of change.

use std::fmt::Write as _;

use super::{
    analysis, base_note, delta, event_words, invalid_base_line, percent, reach_via, split_notes,
    steps, summary, target_words, via, warnings,
};
use crate::diagnostics::{Diagnostics, Severity};
use crate::diff::routes::RouteChange;
use crate::diff::{
    AccessChanges, CanaryChange, Change, MeshChange, NamespaceChanges, Ports, Report, SplitChange,
    Traffic,
};

pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let (base, head) = (
        code(&report.base.to_string()),
        code(&report.head.to_string()),
    );
    let Some(changes) = &report.changes else {
        invalid(&mut out, report, &head);
        return out;
    };
    let _ = writeln!(out, "## meshcd diff: {base} → {head}\n");
    if let Some(note) = base_note(report) {
        let _ = writeln!(out, "> **Note:** {note}.\n");
    }
    let _ = writeln!(out, "**{}**", summary(changes));
    if !changes.access.is_empty() {
        access(&mut out, &changes.access);
    }
    if !changes.splits.is_empty() {
        splits(&mut out, &changes.splits);
    }
    if !changes.namespaces.joined.is_empty() || !changes.namespaces.left.is_empty() {
        namespaces(&mut out, &changes.namespaces);
    }
    if !changes.canaries.is_empty() {
        canaries(&mut out, &changes.canaries);
    }
    if !changes.routes.is_empty() {
        routes(&mut out, &changes.routes);
    }
    if !changes.policies.is_empty() {
        super::policies::markdown(&mut out, &changes.policies);
    }
    if !changes.mesh.is_empty() {
        mesh(&mut out, &changes.mesh);
    }
    if let Some(live) = &changes.live {
        super::live::markdown(&mut out, live);
    }
    let warnings = warnings(report, changes);
    if !warnings.0.is_empty() {
        warnings_list(&mut out, &warnings);
    }
    out
}

/// A head with errors: what they are, and that nothing of it is applied.
fn invalid(out: &mut String, report: &Report, head: &str) {
    let _ = writeln!(out, "## meshcd diff: {head} is invalid\n");
    let _ = writeln!(
        out,
        "{} HEAD has {} error(s); a revision with errors is never applied, not even partly.\n",
        invalid_base_line(report),
        report.head.errors
    );
    let mut shown = report.diagnostics.clone();
    shown.0.retain(|d| d.severity != Severity::Note);
    diagnostics_table(out, &shown);
}

fn access(out: &mut String, access: &AccessChanges) {
    let _ = writeln!(out, "\n### Access\n");
    let _ = writeln!(
        out,
        "| change | source | destination | traffic | ports | granted by |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
    for (change, rows) in [
        ("**+ allowed**", access.newly_allowed()),
        ("**− denied**", access.newly_denied()),
    ] {
        for row in rows {
            let _ = writeln!(
                out,
                "| {change} | {} | {} | {} | {} | {} |",
                code(&row.source.to_string()),
                code(&row.destination.to_string()),
                traffic_markdown(&row.traffic),
                match &row.ports {
                    Ports::Any => "any".to_string(),
                    Ports::Only(ports) => ports
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                },
                via(row, true)
            );
        }
    }
    for change in &access.changed {
        let side = |rows: &[crate::diff::AccessRow]| {
            rows.iter()
                .map(|row| format!("{} on {}", traffic_markdown(&row.traffic), row.ports))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let _ = writeln!(
            out,
            "| **~ {}** | {} | {} | {} → {} | | {} |",
            change.reach,
            code(&change.source.to_string()),
            code(&change.destination.to_string()),
            side(&change.before),
            side(&change.after),
            reach_via(change, true)
        );
    }
}

fn splits(out: &mut String, splits: &[SplitChange]) {
    let _ = writeln!(out, "\n### Traffic splits\n");
    let _ = writeln!(out, "| split | backend | before | after | moved |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for split in splits {
        for (index, backend) in split.backends.iter().enumerate() {
            let title = if index == 0 {
                format!(
                    "{} by TrafficSplit {}{}",
                    code(&format!("{}/{}", split.namespace, split.service)),
                    code(&split.name),
                    match split.change {
                        Change::Added => " (new)",
                        Change::Removed => " (removed)",
                        Change::Changed => "",
                    },
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| {title} | {} | {} | {} | {} |",
                code(&backend.service),
                percent(backend.before),
                percent(backend.after),
                delta(backend.before, backend.after)
            );
        }
    }
    let notes: Vec<String> = splits.iter().flat_map(split_notes).collect();
    if !notes.is_empty() {
        out.push('\n');
        for note in notes {
            let _ = writeln!(out, "- {note}");
        }
    }
}

fn namespaces(out: &mut String, namespaces: &NamespaceChanges) {
    let _ = writeln!(out, "\n### Namespaces\n");
    let list = |names: &[String]| names.iter().map(|n| code(n)).collect::<Vec<_>>().join(", ");
    if !namespaces.joined.is_empty() {
        let _ = writeln!(out, "- **join the mesh:** {}", list(&namespaces.joined));
    }
    if !namespaces.left.is_empty() {
        let _ = writeln!(out, "- **leave the mesh:** {}", list(&namespaces.left));
    }
}

fn canaries(out: &mut String, canaries: &[CanaryChange]) {
    let _ = writeln!(out, "\n### Canaries\n");
    let _ = writeln!(
        out,
        "| canary | event | rollout | steps | interval | at least | analysis |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |");
    for canary in canaries {
        let Some(shown) = canary.after.as_ref().or(canary.before.as_ref()) else {
            continue;
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} → {} ({}) | {} | {} | {} | {} |",
            code(&format!("{}/{}", canary.namespace, canary.name)),
            event_words(canary),
            code(&shown.stable),
            code(&shown.canary),
            target_words(&shown.target, &code),
            steps(shown),
            shown.interval,
            shown.minimum_duration,
            analysis(shown)
        );
    }
}

fn routes(out: &mut String, routes: &[RouteChange]) {
    let _ = writeln!(out, "\n### Routes\n");
    let _ = writeln!(out, "| route | for | rules removed | rules added |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for route in routes {
        let list = |lines: &[String]| {
            lines
                .iter()
                .map(|line| cell(line))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} |",
            match route.change {
                Change::Added => "**+**",
                Change::Removed => "**−**",
                Change::Changed => "**~**",
            },
            code(&format!(
                "{} {}/{}",
                route.kind, route.namespace, route.name
            )),
            route
                .parents
                .iter()
                .map(|p| code(p))
                .collect::<Vec<_>>()
                .join(", "),
            list(&route.removed),
            list(&route.added)
        );
    }
}

fn mesh(out: &mut String, settings: &[MeshChange]) {
    let _ = writeln!(out, "\n### Mesh settings\n");
    let _ = writeln!(out, "| setting | before | after | risk |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for setting in settings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            code(&setting.setting),
            code(&setting.before),
            code(&setting.after),
            setting
                .risk
                .as_deref()
                .map(|risk| format!("⚠️ {}", cell(risk)))
                .unwrap_or_default()
        );
    }
}

fn warnings_list(out: &mut String, warnings: &Diagnostics) {
    let _ = writeln!(out, "\n### Warnings\n");
    for warning in warnings.iter() {
        let _ = write!(
            out,
            "- ⚠️ {} {}",
            code(&format!("{}:{}", warning.file.display(), warning.line)),
            warning.message
        );
        if let Some(hint) = &warning.hint {
            let _ = write!(out, " — {hint}");
        }
        out.push('\n');
    }
}

fn diagnostics_table(out: &mut String, diagnostics: &Diagnostics) {
    let _ = writeln!(out, "| severity | where | object | message |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for diagnostic in diagnostics.iter() {
        let mut message = cell(&diagnostic.message);
        if let Some(hint) = &diagnostic.hint {
            let _ = write!(message, "<br>hint: {}", cell(hint));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {message} |",
            diagnostic.severity,
            code(&format!(
                "{}:{}:{}",
                diagnostic.file.display(),
                diagnostic.line,
                diagnostic.column
            )),
            diagnostic
                .object
                .as_ref()
                .map(|object| code(&object.to_string()))
                .unwrap_or_default(),
        );
    }
}

fn traffic_markdown(traffic: &Traffic) -> String {
    match traffic {
        Traffic::All => "all traffic (TCP and HTTP)".into(),
        Traffic::Tcp => "TCP".into(),
        Traffic::Tls => "TLS".into(),
        Traffic::Http {
            methods,
            path,
            headers,
        } => {
            let methods = if methods.iter().any(|m| m == "*") {
                "any method".to_string()
            } else {
                code(&methods.join(", "))
            };
            let mut out = format!(
                "HTTP {methods} {}",
                path.as_deref()
                    .map(code)
                    .unwrap_or_else(|| "any path".into())
            );
            for header in headers {
                let _ = write!(
                    out,
                    " with {}",
                    code(&format!("{}: {}", header.name, header.value_regex))
                );
            }
            out
        }
    }
}

/// An inline code span that survives a table cell.
pub(super) fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'").replace('|', "\\|"))
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}
