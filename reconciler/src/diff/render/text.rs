//! Plain text for a terminal, and GitHub workflow commands for a CI log.

use std::fmt::Write as _;

use super::{
    base_note, canary_line, canary_sign, change_sign, delta, invalid_base_line, percent,
    reach_change, reach_via, split_notes, split_title, summary, via, warnings,
};
use crate::diagnostics::Diagnostics;
use crate::diagnostics::render::{self as diagnostics_render, SourceLine};
use crate::diff::routes::RouteChange;
use crate::diff::{AccessChanges, ChangeSet, MeshChange, Report, SplitChange};

pub fn text(report: &Report, source_line: &SourceLine<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "meshcd diff: {} → {}", report.base, report.head);
    let Some(changes) = &report.changes else {
        out.push('\n');
        out.push_str(&diagnostics_render::text(&report.diagnostics, source_line));
        let _ = writeln!(out, "{}", invalid_base_line(report));
        return out;
    };
    if let Some(note) = base_note(report) {
        let _ = writeln!(out, "note: {note}");
    }
    access(&mut out, &changes.access);
    if !changes.splits.is_empty() {
        splits(&mut out, &changes.splits);
    }
    let namespaces = &changes.namespaces;
    if !namespaces.joined.is_empty() || !namespaces.left.is_empty() {
        let _ = writeln!(out, "\nnamespaces:");
        for name in &namespaces.joined {
            let _ = writeln!(out, "  + {name} joins the mesh");
        }
        for name in &namespaces.left {
            let _ = writeln!(out, "  - {name} leaves the mesh");
        }
    }
    if !changes.canaries.is_empty() {
        let _ = writeln!(out, "\ncanaries ({}):", changes.canaries.len());
        for canary in &changes.canaries {
            let _ = writeln!(
                out,
                "  {} {}",
                canary_sign(canary.event),
                canary_line(canary)
            );
        }
    }
    if !changes.routes.is_empty() {
        routes(&mut out, &changes.routes);
    }
    if !changes.policies.is_empty() {
        super::policies::text(&mut out, &changes.policies);
    }
    if !changes.mesh.is_empty() {
        mesh(&mut out, &changes.mesh);
    }
    if let Some(live) = &changes.live {
        super::live::text(&mut out, live);
    }
    let warnings = warnings(report, changes);
    if !warnings.0.is_empty() {
        warnings_text(&mut out, &warnings, source_line);
    }
    let _ = writeln!(out, "\nsummary: {}", summary(changes));
    out
}

fn access(out: &mut String, access: &AccessChanges) {
    for (title, sign, rows) in [
        ("newly allowed", '+', access.newly_allowed()),
        ("newly denied", '-', access.newly_denied()),
    ] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\naccess {title} ({}):", rows.len());
        for row in rows {
            let _ = writeln!(
                out,
                "  {sign} {} → {}: {} on {}",
                row.source, row.destination, row.traffic, row.ports
            );
            let _ = writeln!(out, "      via {}", via(row, false));
        }
    }
    if !access.changed.is_empty() {
        let _ = writeln!(out, "\naccess changed ({}):", access.changed.len());
        for change in &access.changed {
            let _ = writeln!(
                out,
                "  ~ {} → {} {}: {}",
                change.source,
                change.destination,
                change.reach,
                reach_change(change)
            );
            let (gained, lost) = access.gained_and_lost(change);
            for (sign, rows) in [('+', gained), ('-', lost)] {
                for row in rows {
                    let _ = writeln!(out, "      {sign} {} on {}", row.traffic, row.ports);
                }
            }
            let _ = writeln!(out, "      via {}", reach_via(change, false));
        }
    }
}

fn splits(out: &mut String, splits: &[SplitChange]) {
    let _ = writeln!(out, "\ntraffic splits ({}):", splits.len());
    for split in splits {
        let _ = writeln!(
            out,
            "  {} {}",
            change_sign(split.change),
            split_title(split)
        );
        for backend in &split.backends {
            let _ = writeln!(
                out,
                "      {:<20} {:>7} → {:<7} {}",
                backend.service,
                percent(backend.before),
                percent(backend.after),
                delta(backend.before, backend.after)
            );
        }
        for note in split_notes(split) {
            let _ = writeln!(out, "      {note}");
        }
    }
}

fn routes(out: &mut String, routes: &[RouteChange]) {
    let _ = writeln!(out, "\nroutes ({}):", routes.len());
    for route in routes {
        let _ = writeln!(
            out,
            "  {} {} {}/{} for {}",
            change_sign(route.change),
            route.kind,
            route.namespace,
            route.name,
            route.parents.join(", ")
        );
        for (sign, lines) in [('-', &route.removed), ('+', &route.added)] {
            for line in lines {
                let _ = writeln!(out, "      {sign} {line}");
            }
        }
    }
}

fn mesh(out: &mut String, settings: &[MeshChange]) {
    let _ = writeln!(out, "\nmesh settings:");
    for setting in settings {
        let _ = writeln!(
            out,
            "  {} {}: {} → {}",
            if setting.risk.is_some() { '!' } else { '~' },
            setting.setting,
            setting.before,
            setting.after
        );
        if let Some(risk) = &setting.risk {
            let _ = writeln!(out, "      risk: {risk}");
        }
    }
}

fn warnings_text(out: &mut String, warnings: &Diagnostics, source_line: &SourceLine<'_>) {
    out.push('\n');
    let rendered = diagnostics_render::text(warnings, source_line);
    // The renderer closes with a validation tally; here the summary below says it.
    let blocks = rendered
        .trim_end()
        .rsplit_once('\n')
        .map_or("", |(blocks, _)| blocks);
    out.push_str(blocks.trim_end());
    out.push('\n');
}

/// HEAD's errors (or warnings) as annotations on their lines, and a notice that sums the
/// effective change up.
pub fn github(report: &Report) -> String {
    let Some(changes) = &report.changes else {
        let mut out = diagnostics_render::github(&report.diagnostics);
        let _ = writeln!(
            out,
            "::notice title=meshcd diff::{}",
            escape(&format!(
                "HEAD ({}) is invalid: {} error(s). {}",
                report.head,
                report.head.errors,
                invalid_base_line(report)
            ))
        );
        return out;
    };
    let mut out = diagnostics_render::github(&warnings(report, changes));
    for setting in changes.mesh.iter().filter(|s| s.risk.is_some()) {
        let _ = writeln!(
            out,
            "::warning title=meshcd diff::{}",
            escape(&format!(
                "{}: {} → {}: {}",
                setting.setting,
                setting.before,
                setting.after,
                setting.risk.as_deref().unwrap_or_default()
            ))
        );
    }
    if let Some(live) = &changes.live {
        super::live::github(&mut out, live, escape);
    }
    let lines = notice_lines(report, changes);
    let _ = writeln!(
        out,
        "::notice title=meshcd diff::{}",
        escape(&lines.join("\n"))
    );
    out
}

/// The notice's lines: the summary, then one line per effective change.
fn notice_lines(report: &Report, changes: &ChangeSet) -> Vec<String> {
    let mut lines = vec![format!(
        "{} → {}: {}",
        report.base,
        report.head,
        summary(changes)
    )];
    if let Some(note) = base_note(report) {
        lines.push(note);
    }
    for (sign, rows) in [
        ('+', changes.access.newly_allowed()),
        ('-', changes.access.newly_denied()),
    ] {
        for row in rows {
            lines.push(format!(
                "{sign} {} → {}: {} on {}",
                row.source, row.destination, row.traffic, row.ports
            ));
        }
    }
    for change in &changes.access.changed {
        lines.push(format!(
            "~ {} → {} {}: {}",
            change.source,
            change.destination,
            change.reach,
            reach_change(change)
        ));
    }
    for split in &changes.splits {
        lines.push(format!(
            "{} {}",
            change_sign(split.change),
            split_title(split)
        ));
    }
    for name in &changes.namespaces.joined {
        lines.push(format!("+ namespace {name} joins the mesh"));
    }
    for name in &changes.namespaces.left {
        lines.push(format!("- namespace {name} leaves the mesh"));
    }
    for canary in &changes.canaries {
        lines.push(format!(
            "{} {}",
            canary_sign(canary.event),
            canary_line(canary)
        ));
    }
    for route in &changes.routes {
        lines.push(format!(
            "{} {} {}/{} for {}",
            change_sign(route.change),
            route.kind,
            route.namespace,
            route.name,
            route.parents.join(", ")
        ));
    }
    for policy in &changes.policies {
        lines.push(format!(
            "{} {}",
            change_sign(policy.change),
            super::policies::title(policy)
        ));
    }
    lines
}

// GitHub's workflow-command escaping of the message part.
fn escape(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
