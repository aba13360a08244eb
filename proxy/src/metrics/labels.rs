//! The label sets of the proxy's metric families.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl EncodeLabelValue for Direction {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        let text = match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
        };
        EncodeLabelValue::encode(&text, encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub direction: Direction,
    pub source: Arc<str>,
    pub destination: Arc<str>,
    pub backend: Arc<str>,
    pub route: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ResponseLabels {
    pub(crate) direction: Direction,
    pub(crate) source: Arc<str>,
    pub(crate) destination: Arc<str>,
    pub(crate) backend: Arc<str>,
    pub(crate) route: Arc<str>,
    pub(crate) status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TcpLabels {
    pub direction: Direction,
    pub source: Arc<str>,
    pub destination: Arc<str>,
    pub backend: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct TcpBytesLabels {
    pub(crate) direction: Direction,
    pub(crate) source: Arc<str>,
    pub(crate) destination: Arc<str>,
    pub(crate) backend: Arc<str>,
    pub(crate) flow: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DirectionLabel {
    pub(crate) direction: Direction,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct DeniedLabels {
    pub(crate) source: Arc<str>,
    pub(crate) protocol: &'static str,
}

/// The UpstreamTrafficSetting a metric counts for.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct SettingLabel {
    pub(crate) setting: Arc<str>,
}

/// A call a limit refused: the UpstreamTrafficSetting and the limit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OverflowLabels {
    pub(crate) setting: Arc<str>,
    pub(crate) limit: &'static str,
}

/// A call out of the mesh: its protocol (`http`, `https`, `tcp`), whether it went
/// (`allowed`, `denied`), and the Egress that allowed it (`namespace/name`; empty: the
/// Mesh's default).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct EgressLabels {
    pub(crate) protocol: &'static str,
    pub(crate) result: &'static str,
    pub(crate) policy: Arc<str>,
}

/// An injected fault: the Fault (`namespace/name`) and what it did (`abort`, `delay`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FaultLabels {
    pub(crate) fault: Arc<str>,
    pub(crate) kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ResultLabel {
    pub(crate) result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ListenerLabel {
    pub(crate) listener: Arc<str>,
}

/// The handles of one listener's connection accounting (see `accept`).
#[derive(Clone, Debug)]
pub struct ListenerMetrics {
    pub open: Gauge,
    pub refused: Counter,
    pub accept_errors: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct VersionLabel {
    pub(crate) version: String,
}
