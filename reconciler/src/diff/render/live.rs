//! The live findings (`--status-url`) in each format: always risks, so warnings in the
//! text and Markdown and `::warning` annotations for GitHub.

use std::fmt::Write as _;

use super::markdown::code;
use super::number;
use crate::diff::live::{CutTraffic, LiveFindings, UnservedBackend};

/// `4.2 req/s (252 requests in 60 s)`.
fn rate(cut: &CutTraffic, live: &LiveFindings) -> String {
    format!(
        "{} req/s ({} request{} in {} s)",
        number(cut.requests_per_second),
        cut.requests,
        if cut.requests == 1 { "" } else { "s" },
        live.window_seconds
    )
}

fn what_head_does(cut: &CutTraffic) -> &'static str {
    if cut.partly {
        "narrows access that live traffic uses"
    } else {
        "cuts live traffic"
    }
}

/// One sentence per cut, for text and annotations.
pub fn cut_sentence(cut: &CutTraffic, live: &LiveFindings) -> String {
    let mut out = format!(
        "{} → {}: HEAD {}: {} to {}",
        cut.source,
        cut.destination,
        what_head_does(cut),
        rate(cut, live),
        cut.services.join(", ")
    );
    if !cut.traffic_targets.is_empty() {
        let _ = write!(
            out,
            "; granted in BASE by TrafficTarget {}",
            cut.traffic_targets.join(", ")
        );
    }
    if cut.partly {
        out.push_str("; HEAD still admits part of it, see the denied access rows");
    }
    out
}

pub fn unserved_sentence(backend: &UnservedBackend) -> String {
    format!(
        "split {}/{} (TrafficSplit {}) sends {}% of its requests to {}/{}, which no running \
         workload serves",
        backend.namespace,
        backend.service,
        backend.split,
        number(backend.percent),
        backend.namespace,
        backend.backend
    )
}

fn heading(live: &LiveFindings) -> String {
    format!(
        "live traffic of the last {} s at {}",
        live.window_seconds, live.source
    )
}

pub fn text(out: &mut String, live: &LiveFindings) {
    let _ = writeln!(out, "\n{}:", heading(live));
    if live.count() == 0 {
        let _ = writeln!(
            out,
            "  no access in use is removed; every weighted backend has a workload"
        );
        return;
    }
    for cut in &live.cut_traffic {
        let _ = writeln!(out, "  ! {}", cut_sentence(cut, live));
    }
    for backend in &live.unserved_backends {
        let _ = writeln!(out, "  ! {}", unserved_sentence(backend));
    }
}

pub fn markdown(out: &mut String, live: &LiveFindings) {
    let _ = writeln!(
        out,
        "\n### Live traffic\n\nThe last {} s of traffic at {}.\n",
        live.window_seconds,
        code(&live.source)
    );
    if live.count() == 0 {
        let _ = writeln!(
            out,
            "No access in use is removed; every weighted backend has a workload."
        );
        return;
    }
    if !live.cut_traffic.is_empty() {
        let _ = writeln!(
            out,
            "| risk | source | destination | calls to | observed | granted in BASE by |"
        );
        let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
        for cut in &live.cut_traffic {
            let services: Vec<String> = cut.services.iter().map(|s| code(s)).collect();
            let targets: Vec<String> = cut.traffic_targets.iter().map(|t| code(t)).collect();
            let _ = writeln!(
                out,
                "| ⚠️ {} | {} | {} | {} | {} | {} |",
                what_head_does(cut),
                code(&cut.source.to_string()),
                code(&cut.destination.to_string()),
                services.join(", "),
                rate(cut, live),
                if targets.is_empty() {
                    "Mesh `trafficPolicy: permissive`".to_string()
                } else {
                    format!("TrafficTarget {}", targets.join(", "))
                }
            );
        }
    }
    if !live.unserved_backends.is_empty() {
        if !live.cut_traffic.is_empty() {
            out.push('\n');
        }
        for backend in &live.unserved_backends {
            let _ = writeln!(
                out,
                "- ⚠️ split {} (TrafficSplit {}) sends {}% of its requests to {}, which no \
                 running workload serves",
                code(&format!("{}/{}", backend.namespace, backend.service)),
                code(&backend.split),
                number(backend.percent),
                code(&backend.backend)
            );
        }
    }
}

/// `::warning` workflow commands, one per finding.
pub fn github(out: &mut String, live: &LiveFindings, escape: impl Fn(&str) -> String) {
    for cut in &live.cut_traffic {
        let _ = writeln!(
            out,
            "::warning title=meshcd diff: live traffic::{}",
            escape(&cut_sentence(cut, live))
        );
    }
    for backend in &live.unserved_backends {
        let _ = writeln!(
            out,
            "::warning title=meshcd diff: live traffic::{}",
            escape(&unserved_sentence(backend))
        );
    }
}
