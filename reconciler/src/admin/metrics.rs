//! The admin listener's Prometheus family (see `crate::metrics` for the catalogue).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    reason: &'static str,
}

/// What the admin listener refused; cheap to clone.
#[derive(Clone, Default)]
pub struct AdminMetrics {
    refused: Family<RefusalLabels, Counter>,
}

impl AdminMetrics {
    pub fn refused(&self, reason: super::auth::Reason) {
        self.refused
            .get_or_create(&RefusalLabels {
                reason: reason.as_str(),
            })
            .inc();
    }

    /// The family, registered in `registry`, every reason at zero.
    pub fn register(registry: &mut Registry) -> Self {
        let admin = AdminMetrics::default();
        for reason in super::auth::Reason::ALL {
            admin.refused.get_or_create_owned(&RefusalLabels {
                reason: reason.as_str(),
            });
        }
        registry.register(
            "meshcd_admin_requests_refused",
            "Admin API requests refused before reaching their route, by reason",
            admin.refused.clone(),
        );
        admin
    }
}
