//! Faults this proxy injects into its own calls to a Service (a meshcd.dev Fault),
//! compiled from the snapshot's client policies.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use meshcd_schemas::proto;

use super::matcher::{HttpMatch, InvalidMatch};

#[derive(Debug)]
pub struct Fault {
    /// `namespace/name` of the Fault, for metrics and the access log.
    pub name: Arc<str>,
    abort: Option<(f64, StatusCode)>,
    delay: Option<(f64, Duration)>,
    /// The calls that may get it (its HTTPRouteGroup matches); empty: every call.
    matches: Vec<HttpMatch>,
}

/// What one call gets: held first, then answered without being sent, or both, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Injected {
    pub delay: Option<Duration>,
    pub abort: Option<StatusCode>,
}

impl Injected {
    /// For the access log: `delay`, `abort`, `delay+abort`, or empty.
    pub fn words(&self) -> &'static str {
        match (self.delay.is_some(), self.abort.is_some()) {
            (true, true) => "delay+abort",
            (true, false) => "delay",
            (false, true) => "abort",
            (false, false) => "",
        }
    }
}

impl Fault {
    /// Whether a call with this method, path and headers may get the fault.
    pub fn applies(&self, method: &http::Method, path: &str, headers: &http::HeaderMap) -> bool {
        self.matches.is_empty()
            || self
                .matches
                .iter()
                .any(|m| m.matches(method, path, headers))
    }

    /// Draws this call's faults, each by its own share.
    pub fn draw(&self) -> Injected {
        let hit = |fraction: f64| fraction >= 1.0 || rand::random::<f64>() < fraction;
        Injected {
            delay: self
                .delay
                .filter(|(fraction, _)| hit(*fraction))
                .map(|(_, duration)| duration),
            abort: self
                .abort
                .filter(|(fraction, _)| hit(*fraction))
                .map(|(_, status)| status),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvalidFault {
    #[error("fault {name:?}: abort status {status} is not an HTTP status")]
    Status { name: String, status: u32 },
    #[error("fault {name:?}")]
    Match {
        name: String,
        source: Box<InvalidMatch>,
    },
}

impl TryFrom<proto::Fault> for Fault {
    type Error = InvalidFault;

    fn try_from(fault: proto::Fault) -> Result<Self, Self::Error> {
        let abort = if fault.abort_fraction > 0.0 {
            let status = u16::try_from(fault.abort_status)
                .ok()
                .and_then(|status| StatusCode::from_u16(status).ok())
                .ok_or_else(|| InvalidFault::Status {
                    name: fault.name.clone(),
                    status: fault.abort_status,
                })?;
            Some((fault.abort_fraction, status))
        } else {
            None
        };
        let delay = (fault.delay_fraction > 0.0 && fault.delay_ms > 0)
            .then(|| (fault.delay_fraction, Duration::from_millis(fault.delay_ms)));
        let matches = fault
            .matches
            .into_iter()
            .map(HttpMatch::try_from)
            .collect::<Result<_, _>>()
            .map_err(|source| InvalidFault::Match {
                name: fault.name.clone(),
                source: Box::new(source),
            })?;
        Ok(Fault {
            name: fault.name.into(),
            abort,
            delay,
            matches,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(abort: f64, delay: f64) -> Fault {
        Fault::try_from(proto::Fault {
            name: "shop/chaos".into(),
            abort_fraction: abort,
            abort_status: 503,
            delay_fraction: delay,
            delay_ms: 200,
            matches: Vec::new(),
        })
        .unwrap()
    }

    #[test]
    fn a_fault_with_matches_applies_to_the_calls_they_match() {
        let scoped = Fault::try_from(proto::Fault {
            name: "shop/chaos".into(),
            abort_fraction: 1.0,
            abort_status: 503,
            matches: vec![proto::HttpMatch {
                name: "api-routes/orders".into(),
                path_regex: "/orders.*".into(),
                methods: vec!["POST".into()],
                headers: Vec::new(),
            }],
            ..proto::Fault::default()
        })
        .unwrap();
        let headers = http::HeaderMap::new();
        assert!(scoped.applies(&http::Method::POST, "/orders/7", &headers));
        assert!(!scoped.applies(&http::Method::GET, "/orders/7", &headers));
        assert!(!scoped.applies(&http::Method::POST, "/cart", &headers));
        assert!(fault(1.0, 0.0).applies(&http::Method::GET, "/cart", &headers));
    }

    #[test]
    fn every_call_or_none_gets_a_fault_of_share_one_or_zero() {
        let all = fault(1.0, 1.0).draw();
        assert_eq!(all.abort, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(all.delay, Some(Duration::from_millis(200)));
        assert_eq!(all.words(), "delay+abort");
        assert_eq!(fault(0.0, 0.0).draw(), Injected::default());
    }

    #[test]
    fn a_share_is_drawn_for_each_call() {
        let half = fault(0.5, 0.0);
        let aborted = (0..10_000).filter(|_| half.draw().abort.is_some()).count();
        assert!((4_500..5_500).contains(&aborted), "{aborted}");
    }

    #[test]
    fn an_abort_status_http_cannot_carry_is_refused() {
        let mut bad = proto::Fault {
            name: "shop/chaos".into(),
            abort_fraction: 0.1,
            abort_status: 70_000,
            ..proto::Fault::default()
        };
        assert!(Fault::try_from(bad.clone()).is_err());
        bad.abort_fraction = 0.0;
        assert!(Fault::try_from(bad).is_ok(), "no abort: no status needed");
    }
}
