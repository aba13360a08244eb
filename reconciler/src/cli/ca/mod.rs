//! `meshcd ca`: the mesh's roots of trust. `rotate` writes a rotation's commits and
//! waits between them; `meshcd status` shows the rotation's phase, the roots, the
//! proxies still on an old root, and the step that waits.

mod rotate;

use std::fmt::Write as _;

pub use rotate::{Command, run};

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
