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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::mesh::RotationWait;
    use crate::source::git::Revision;

    #[test]
    fn status_shows_the_phase_the_roots_the_proxies_left_and_the_step_that_waits() {
        let trust = TrustStatus {
            phase: "reissuing".into(),
            roots: vec![
                "mesh/root-2027 (0123456789ab)".into(),
                "mesh/root-2026 (ba9876543210)".into(),
            ],
            issuing: "mesh/root-2027".into(),
            proxies_on_old_roots: vec!["shop/api@10.0.0.7".into()],
            waiting: Some(RotationWait::Certificates {
                root: "mesh/root-2026".into(),
                proxies: vec!["shop/api@10.0.0.7".into()],
            }),
        };
        let held = RotationHeld {
            revision: Revision {
                id: "cccccccccccccccccccc".into(),
                summary: "remove root-2026".into(),
                author: "alice".into(),
                time: 0,
            },
            message: trust.waiting.as_ref().unwrap().to_string(),
        };
        let mut out = String::new();
        trust_lines(&mut out, &trust, Some(&held));
        assert_eq!(
            out,
            "roots:    reissuing (issuing: mesh/root-2027)
  mesh/root-2027 (0123456789ab)
  mesh/root-2026 (ba9876543210)
  proxies not yet on the issuing root: shop/api@10.0.0.7
  waiting:  revision cccccccccccc: root mesh/root-2026 cannot be dropped yet: 1 proxies still serve a certificate from it or have not said which root theirs is from (shop/api@10.0.0.7)
"
        );
    }
}
