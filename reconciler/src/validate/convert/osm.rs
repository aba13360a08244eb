//! OSM's policy kinds (`policy.openservicemesh.io/v1alpha1`) → model: Retry.

use serde_json::Value;

use super::units::parse_duration;
use super::{array, string};
use crate::model::{Identity, RetryPolicy};
use crate::validate::report::{Object, Reporter};

/// What each `retryOn` word retries: statuses, and whether failed connections and
/// timed-out attempts too (Envoy's meaning of the words, which OSM hands over).
fn retry_on(word: &str) -> Option<(Vec<u16>, bool)> {
    Some(match word {
        "5xx" => ((500..=599).collect(), true),
        "gateway-error" => (vec![502, 503, 504], true),
        "reset" | "connect-failure" => (Vec::new(), true),
        "retriable-4xx" => (vec![409], false),
        code => {
            let code: u16 = code.parse().ok().filter(|c| (100..=599).contains(c))?;
            (vec![code], false)
        }
    })
}

pub fn retry(object: &Object<'_>, reporter: &mut Reporter<'_>) -> Option<RetryPolicy> {
    let value = &object.value;
    let namespace = object.id.namespace.clone().unwrap_or_default();
    let mut valid = true;
    if string(value, "/spec/source/kind").as_deref() != Some("ServiceAccount") {
        reporter
            .error(
                object,
                "/spec/source/kind",
                "a Retry's source is a ServiceAccount",
            )
            .hint("`source: {kind: ServiceAccount, name: frontend, namespace: shop}`");
        valid = false;
    }
    let mut destinations = Vec::new();
    for (index, destination) in array(value, "/spec/destinations").iter().enumerate() {
        if destination["kind"].as_str() != Some("Service") {
            reporter
                .error(
                    object,
                    &format!("/spec/destinations/{index}/kind"),
                    "a Retry's destinations are Services",
                )
                .hint("`{kind: Service, name: api, namespace: shop}`");
            valid = false;
        }
        destinations.push((
            destination["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            destination["name"].as_str().unwrap_or_default().to_string(),
        ));
    }
    let (mut codes, mut connection_failures) = (Vec::new(), false);
    let words = string(value, "/spec/retryPolicy/retryOn").unwrap_or_default();
    for word in words.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        match retry_on(word) {
            Some((statuses, connections)) => {
                codes.extend(statuses);
                connection_failures |= connections;
            }
            None => {
                reporter
                    .error(object, "/spec/retryPolicy/retryOn", format!("retryOn {word:?} is not a retry condition meshcd knows"))
                    .hint("comma-separated: 5xx, gateway-error, reset, connect-failure, retriable-4xx, or status codes such as 503");
                valid = false;
            }
        }
    }
    codes.sort_unstable();
    codes.dedup();
    let mut duration =
        |pointer: &str| match string(value, pointer).map(|text| parse_duration(&text)) {
            Some(Ok(duration)) => Some(duration),
            Some(Err(message)) => {
                reporter
                    .error(object, pointer, message)
                    .hint("durations look like 500ms, 1s or 1m30s");
                None
            }
            None => None,
        };
    let per_try_timeout = duration("/spec/retryPolicy/perTryTimeout");
    let backoff = duration("/spec/retryPolicy/retryBackoffBaseInterval");
    let (Some(per_try_timeout), Some(backoff)) = (per_try_timeout, backoff) else {
        return None;
    };
    let attempts = value
        .pointer("/spec/retryPolicy/numRetries")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let Ok(attempts) = u32::try_from(attempts) else {
        reporter.error(
            object,
            "/spec/retryPolicy/numRetries",
            "numRetries is the number of retries: 0 or more",
        );
        return None;
    };
    valid.then(|| RetryPolicy {
        name: object.id.name.clone(),
        source: Identity {
            namespace: string(value, "/spec/source/namespace").unwrap_or_else(|| namespace.clone()),
            service_account: string(value, "/spec/source/name").unwrap_or_default(),
        },
        namespace,
        destinations,
        codes,
        connection_failures,
        attempts,
        per_try_timeout,
        backoff,
    })
}

#[cfg(test)]
mod tests {
    use crate::model::Identity;
    use crate::test_support::{config, diagnostics};

    fn retry(retry_on: &str, source_kind: &str) -> String {
        format!(
            "apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {{name: retry, namespace: shop}}
spec:
  source: {{kind: {source_kind}, name: frontend, namespace: shop}}
  destinations:
  - {{kind: Service, name: api, namespace: shop}}
  retryPolicy:
    retryOn: \"{retry_on}\"
    perTryTimeout: 1s
    numRetries: 3
    retryBackoffBaseInterval: 100ms
"
        )
    }

    #[test]
    fn an_osm_retry_is_read_with_envoys_meaning_of_retry_on() {
        let config = config(&retry("gateway-error, 409", "ServiceAccount"));
        let retry = &config.retries[0].value;
        assert_eq!(
            retry.source,
            Identity {
                namespace: "shop".into(),
                service_account: "frontend".into()
            }
        );
        assert_eq!(
            retry.destinations,
            [("shop".to_string(), "api".to_string())]
        );
        assert_eq!(retry.codes, [409, 502, 503, 504]);
        assert!(retry.connection_failures);
        assert_eq!(retry.attempts, 3);
        assert_eq!(retry.per_try_timeout, std::time::Duration::from_secs(1));
        let statuses_only = config_of("retriable-4xx,503");
        assert!(!statuses_only.connection_failures);
        assert_eq!(statuses_only.codes, [409, 503]);
    }

    fn config_of(retry_on: &str) -> crate::model::RetryPolicy {
        config(&retry(retry_on, "ServiceAccount")).retries[0]
            .value
            .clone()
    }

    #[test]
    fn an_unknown_retry_condition_and_a_source_that_is_no_service_account_are_errors() {
        let found = diagnostics(&retry("5xx,sometimes", "Deployment"));
        for expected in [
            "9: a Retry's source is a ServiceAccount",
            "13: retryOn \"sometimes\" is not a retry condition meshcd knows",
        ] {
            assert!(
                found.iter().any(|d| d.starts_with(expected)),
                "{expected:?} not in {found:#?}"
            );
        }
    }
}
