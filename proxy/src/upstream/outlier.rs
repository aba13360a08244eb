//! When the balancer leaves an endpoint out (outlier detection): the built-in rule, or an
//! UpstreamTrafficSetting's `outlierDetection`.

use std::time::Duration;

/// When an endpoint is left out of balancing. The built-in (no setting): after 5
/// connection failures in a row, for 10 s each time. A setting's counts 5xx answers too,
/// and lengthens the ejections of an endpoint that keeps failing (Envoy's multiplier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outlier {
    pub consecutive_failures: u32,
    /// How long an ejection count takes to fade by one while the endpoint stays in.
    pub interval: Duration,
    pub base_ejection: Duration,
    /// The longest ejection, however many in a row.
    pub max_ejection: Duration,
    /// Of a backend's endpoints, the share (percent) that may be out at once.
    pub max_ejection_percent: u32,
    /// Whether 5xx answers are failures, not only failed connections.
    pub counts_5xx: bool,
}

impl Default for Outlier {
    fn default() -> Self {
        Outlier {
            consecutive_failures: 5,
            interval: Duration::from_secs(10),
            base_ejection: Duration::from_secs(10),
            max_ejection: Duration::from_secs(10),
            max_ejection_percent: 100,
            counts_5xx: false,
        }
    }
}

impl Outlier {
    /// Whether one more of `total` endpoints may be ejected while `out` are: one always
    /// may (Envoy's rule), more only within `max_ejection_percent`.
    pub fn may_eject(&self, out: usize, total: usize) -> bool {
        out == 0 || (out + 1) * 100 <= total * self.max_ejection_percent as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_endpoint_may_always_go_and_more_only_within_the_share() {
        let half = Outlier {
            max_ejection_percent: 50,
            ..Outlier::default()
        };
        assert!(half.may_eject(0, 2));
        assert!(!half.may_eject(1, 2));
        assert!(half.may_eject(1, 4));
        assert!(!half.may_eject(2, 4));
        let none = Outlier {
            max_ejection_percent: 0,
            ..Outlier::default()
        };
        assert!(none.may_eject(0, 10), "one always may");
        assert!(!none.may_eject(1, 10));
        assert!(
            Outlier::default().may_eject(9, 10),
            "the built-in keeps no share"
        );
    }
}
