//! Renders a diff `Report` as text, JSON, Markdown (a pull-request comment or step
//! summary) or GitHub workflow commands, all from the same value.

mod live;
mod markdown;
mod policies;
mod text;

use std::fmt::Write as _;

use super::{
    AccessRow, CanaryChange, CanaryEvent, CanarySummary, Change, ChangeSet, GrantChange, Peer,
    Reach, Report, SplitChange,
};
use crate::diagnostics::Diagnostics;
use crate::diagnostics::render::SourceLine;
use crate::model::CanaryTarget;
use markdown::code;

pub use markdown::markdown;
pub use text::{github, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Github,
}

pub fn render(report: &Report, format: Format, source_line: &SourceLine<'_>) -> String {
    match format {
        Format::Text => text(report, source_line),
        Format::Json => json(report),
        Format::Markdown => markdown(report),
        Format::Github => github(report),
    }
}

/// One line: `2 newly allowed, 1 newly denied, 1 split changed`.
///
/// Long because it is a table: one row per kind of change, in reading order.
pub fn summary(changes: &ChangeSet) -> String {
    let canaries = |event| changes.canaries.iter().filter(|c| c.event == event).count();
    let reaches = |reach| {
        let changed = &changes.access.changed;
        changed.iter().filter(|c| c.reach == reach).count()
    };
    let live = changes.live.as_ref();
    let access = &changes.access;
    let namespaces = &changes.namespaces;
    // (how many, singular, plural), in the order a reviewer reads them.
    let counted = [
        (
            access.newly_allowed().len(),
            "access row newly allowed",
            "access rows newly allowed",
        ),
        (
            access.newly_denied().len(),
            "access row newly denied",
            "access rows newly denied",
        ),
        (reaches(Reach::Widened), "grant widened", "grants widened"),
        (
            reaches(Reach::Narrowed),
            "grant narrowed",
            "grants narrowed",
        ),
        (
            reaches(Reach::Reshaped),
            "grant reshaped",
            "grants reshaped",
        ),
        (changes.splits.len(), "split changed", "splits changed"),
        (
            namespaces.joined.len(),
            "namespace joins",
            "namespaces join",
        ),
        (
            namespaces.left.len(),
            "namespace leaves",
            "namespaces leave",
        ),
        (
            canaries(CanaryEvent::Starts),
            "canary starts",
            "canaries start",
        ),
        (
            canaries(CanaryEvent::Changes),
            "canary changes",
            "canaries change",
        ),
        (
            canaries(CanaryEvent::Stops),
            "canary stops",
            "canaries stop",
        ),
        (
            canaries(CanaryEvent::Finishes),
            "canary finishes",
            "canaries finish",
        ),
        (
            changes.mesh.len(),
            "mesh setting changed",
            "mesh settings changed",
        ),
        (changes.routes.len(), "route changed", "routes changed"),
        (changes.policies.len(), "policy changed", "policies changed"),
        (changes.warnings.0.len(), "warning", "warnings"),
        (
            live.map_or(0, |live| live.cut_traffic.len()),
            "path of live traffic cut",
            "paths of live traffic cut",
        ),
        (
            live.map_or(0, |live| live.unserved_backends.len()),
            "weighted backend without workloads",
            "weighted backends without workloads",
        ),
    ];
    let parts: Vec<String> = counted
        .into_iter()
        .filter_map(|(n, one, many)| match n {
            0 => None,
            1 => Some(format!("1 {one}")),
            n => Some(format!("{n} {many}")),
        })
        .collect();
    if parts.is_empty() {
        "no effective change".into()
    } else {
        parts.join(", ")
    }
}

/// "GET /api/values on 8080 → GET, POST /api/.* on 8080": a grant as it was and becomes.
fn reach_change(change: &GrantChange) -> String {
    let side = |rows: &[AccessRow]| {
        rows.iter()
            .map(|row| format!("{} on {}", row.traffic, row.ports))
            .collect::<Vec<_>>()
            .join("; ")
    };
    format!("{} → {}", side(&change.before), side(&change.after))
}

/// What grants the grant as HEAD has it.
fn reach_via(change: &GrantChange, markdown: bool) -> String {
    let mut seen = Vec::new();
    for row in &change.after {
        let line = via(row, markdown);
        if !seen.contains(&line) {
            seen.push(line);
        }
    }
    seen.join("; ")
}

fn base_note(report: &Report) -> Option<String> {
    (!report.base.valid).then(|| {
        format!(
            "BASE is invalid ({} error(s)): HEAD is compared with an empty mesh",
            report.base.errors
        )
    })
}

fn invalid_base_line(report: &Report) -> String {
    if report.base.valid {
        "BASE was valid.".into()
    } else {
        format!("BASE was invalid too ({} error(s)).", report.base.errors)
    }
}

/// HEAD's validation warnings, then the diff's own.
fn warnings(report: &Report, changes: &ChangeSet) -> Diagnostics {
    let mut all = report.diagnostics.clone();
    all.0.extend(changes.warnings.0.iter().cloned());
    all
}

pub fn json(report: &Report) -> String {
    let value = serde_json::json!({
        "valid": report.head.valid,
        "summary": report.changes.as_ref().map(summary),
        "base": report.base,
        "head": report.head,
        "changes": report.changes,
        "diagnostics": report.diagnostics,
    });
    let mut out = serde_json::to_string_pretty(&value).unwrap_or_default();
    out.push('\n');
    out
}

fn via(row: &AccessRow, markdown: bool) -> String {
    let wrap = |text: &str| {
        if markdown {
            code(text)
        } else {
            text.to_string()
        }
    };
    if row.destination == Peer::AnyExternal {
        return format!("Mesh {}", wrap("egress: allow"));
    }
    if !row.ingress_backends.is_empty() {
        let names: Vec<String> = row.ingress_backends.iter().map(|t| wrap(t)).collect();
        return format!("IngressBackend {}", names.join(", "));
    }
    let (kind, grants) = match (&row.egresses, &row.traffic_targets) {
        (egresses, _) if !egresses.is_empty() => ("Egress", egresses),
        // Only the permissive traffic policy grants without a TrafficTarget.
        (_, targets) if targets.is_empty() => {
            return format!("Mesh {}", wrap("trafficPolicy: permissive"));
        }
        (_, targets) => ("TrafficTarget", targets),
    };
    let names: Vec<String> = grants.iter().map(|t| wrap(t)).collect();
    let mut out = format!("{kind} {}", names.join(", "));
    if !row.routes.is_empty() {
        let routes: Vec<String> = row.routes.iter().map(|r| wrap(r)).collect();
        let _ = write!(out, ", route {}", routes.join(", "));
    }
    out
}

fn split_title(split: &SplitChange) -> String {
    let what = match split.change {
        Change::Added => "new split of",
        Change::Removed => "split removed from",
        Change::Changed => "split of",
    };
    format!(
        "{what} {}/{} (TrafficSplit {})",
        split.namespace, split.service, split.name
    )
}

fn split_notes(split: &SplitChange) -> Vec<String> {
    let mut notes = Vec::new();
    if split.change == Change::Removed {
        notes.push(format!(
            "requests to {}/{} go to the root service's own endpoints again",
            split.namespace, split.service
        ));
    }
    if split.matches_before != split.matches_after {
        let list = |matches: &[String]| {
            if matches.is_empty() {
                "every request".to_string()
            } else {
                format!("requests matching {}", matches.join(", "))
            }
        };
        notes.push(format!(
            "{}/{} splits {} (was: {})",
            split.namespace,
            split.service,
            list(&split.matches_after),
            list(&split.matches_before)
        ));
    }
    if let Some(canary) = &split.canary {
        notes.push(format!(
            "Canary {}/{canary} owns these weights while it runs: they are where it starts",
            split.namespace
        ));
    }
    notes
}

fn change_sign(change: Change) -> char {
    match change {
        Change::Added => '+',
        Change::Removed => '-',
        Change::Changed => '~',
    }
}

fn canary_sign(event: CanaryEvent) -> char {
    match event {
        CanaryEvent::Starts => '+',
        CanaryEvent::Stops => '-',
        CanaryEvent::Changes | CanaryEvent::Finishes => '~',
    }
}

fn event_words(canary: &CanaryChange) -> String {
    match canary.event {
        CanaryEvent::Starts => "starts".into(),
        CanaryEvent::Stops => "stops".into(),
        CanaryEvent::Changes => format!("changes ({}), restarts", canary.fields.join(", ")),
        CanaryEvent::Finishes => format!(
            "finishes: {}",
            canary
                .after
                .as_ref()
                .and_then(|a| a.phase.as_deref())
                .unwrap_or("status updated")
        ),
    }
}

fn canary_line(canary: &CanaryChange) -> String {
    let name = format!("{}/{}", canary.namespace, canary.name);
    let Some(shown) = canary.after.as_ref().or(canary.before.as_ref()) else {
        return name;
    };
    format!(
        "canary {name} {}: {} → {} over {}, steps {} every {} (at least {}); {}",
        event_words(canary),
        shown.stable,
        shown.canary,
        target_words(&shown.target, &|name| name.to_string()),
        steps(shown),
        shown.interval,
        shown.minimum_duration,
        analysis(shown)
    )
}

/// What a canary drives, in words: `split api`, `HTTPRoute api` or `HTTPRoute api rule
/// main`, names formatted by `name`.
pub fn target_words(target: &CanaryTarget, name: &dyn Fn(&str) -> String) -> String {
    match target {
        CanaryTarget::TrafficSplit(split) => format!("split {}", name(split)),
        CanaryTarget::HttpRoute { name: route, rule } => match rule {
            Some(rule) => format!("HTTPRoute {} rule {}", name(route), name(rule)),
            None => format!("HTTPRoute {}", name(route)),
        },
    }
}

fn steps(summary: &CanarySummary) -> String {
    let weights: Vec<String> = summary.weights.iter().map(u32::to_string).collect();
    format!("{}%", weights.join(", "))
}

fn analysis(summary: &CanarySummary) -> String {
    let mut parts = Vec::new();
    if let Some(min) = summary.success_rate_min {
        parts.push(format!("success rate ≥ {min}%"));
    }
    if let Some(max) = &summary.latency_p99_max {
        parts.push(format!("p99 ≤ {max}"));
    }
    parts.push(format!("≥ {} requests per interval", summary.min_requests));
    parts.push(format!(
        "rollback after {} failures",
        summary.failure_threshold
    ));
    parts.join(", ")
}

/// `90%`, `33.33%`, or `—` for a backend that is not listed.
fn percent(value: Option<f64>) -> String {
    match value {
        None => "—".into(),
        Some(value) => format!("{}%", number(value)),
    }
}

fn delta(before: Option<f64>, after: Option<f64>) -> String {
    match (before, after) {
        (None, Some(_)) => "added".into(),
        (Some(_), None) => "removed".into(),
        (Some(before), Some(after)) => {
            let moved = ((after - before) * 100.0).round() / 100.0;
            if moved == 0.0 {
                "±0".into()
            } else if moved > 0.0 {
                format!("+{} pts", number(moved))
            } else {
                format!("{} pts", number(moved))
            }
        }
        (None, None) => String::new(),
    }
}

fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
