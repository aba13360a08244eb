//! Policy changes (Retry, UpstreamTrafficSetting, Fault) in each format: a title per
//! policy, then one line per setting that differs.

use std::fmt::Write as _;

use super::change_sign;
use super::markdown::code;
use crate::diff::Change;
use crate::diff::policies::{PolicyChange, SettingChange};

/// `Retry shop/frontend-to-api for shop/frontend → shop/api`.
pub fn title(policy: &PolicyChange) -> String {
    format!(
        "{} {}/{} for {}",
        policy.kind, policy.namespace, policy.name, policy.target
    )
}

/// `+ retryPolicy.numRetries: 3`, `~ connectionSettings.http.maxRequests: 100 → 50`,
/// `- abort.httpStatus: 503`.
fn setting_line(setting: &SettingChange) -> String {
    let field = &setting.setting;
    match (&setting.before, &setting.after) {
        (None, Some(after)) => format!("+ {field}: {after}"),
        (Some(before), None) => format!("- {field}: {before}"),
        (Some(before), Some(after)) => format!("~ {field}: {before} → {after}"),
        (None, None) => format!("~ {field}"),
    }
}

pub fn text(out: &mut String, policies: &[PolicyChange]) {
    let _ = writeln!(out, "\npolicies ({}):", policies.len());
    for policy in policies {
        let _ = writeln!(out, "  {} {}", change_sign(policy.change), title(policy));
        for setting in &policy.settings {
            let _ = writeln!(out, "      {}", setting_line(setting));
        }
    }
}

/// One row per setting that differs; the policy and what it applies to on its first.
pub fn markdown(out: &mut String, policies: &[PolicyChange]) {
    let _ = writeln!(out, "\n### Policies\n");
    let _ = writeln!(out, "| policy | for | setting | before | after |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    let value = |value: &Option<String>| value.as_deref().map_or("—".into(), code);
    for policy in policies {
        let sign = match policy.change {
            Change::Added => "**+**",
            Change::Removed => "**−**",
            Change::Changed => "**~**",
        };
        let name = format!("{} {}/{}", policy.kind, policy.namespace, policy.name);
        // The policy's cells on its first row only, as the splits table does.
        let mut shown = (format!("{sign} {}", code(&name)), code(&policy.target));
        if policy.settings.is_empty() {
            let _ = writeln!(out, "| {} | {} | | | |", shown.0, shown.1);
        }
        for setting in &policy.settings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                shown.0,
                shown.1,
                code(&setting.setting),
                value(&setting.before),
                value(&setting.after)
            );
            shown = Default::default();
        }
    }
}
