//! The mesh's roots of trust as `meshcd status` shows them: the rotation's phase, the
//! roots, the proxies still on an old root, and the step that waits.

use std::fmt::Write as _;

use crate::control::mesh::TrustStatus;
use crate::reconcile::RotationHeld;

pub(crate) fn trust_lines(out: &mut String, trust: &TrustStatus, held: Option<&RotationHeld>) {
    let _ = writeln!(
        out,
        "roots:    {} (issuing: {})",
        trust.phase, trust.issuing
    );
    for root in &trust.roots {
        let _ = writeln!(out, "  {root}");
    }
    if !trust.proxies_on_old_roots.is_empty() {
        let _ = writeln!(
            out,
            "  proxies not yet on the issuing root: {}",
            trust.proxies_on_old_roots.join(", ")
        );
    }
    if let Some(held) = held {
        let id: String = held.revision.id.chars().take(12).collect();
        let _ = writeln!(out, "  waiting:  revision {id}: {}", held.message);
    }
}
