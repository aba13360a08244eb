//! The app's Kubernetes probes, answered on the admin port.
//!
//! In a pod every inbound connection is redirected to the proxy's mTLS listener, so the
//! kubelet's plaintext probes could no longer reach the app's port. The injector rewrites
//! each app probe to `GET /app-health/CONTAINER/KIND` on the admin port and tells the
//! proxy what each one checks (`--app-probes`, JSON); the proxy runs the check against the
//! app on loopback and answers with its status (as Istio and OSM do).
//!
//! Only the probes the injector configured exist: a caller cannot make the proxy connect
//! to any other port or path, and no body of the app's is passed on.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where rewritten probes point: `/app-health/CONTAINER/KIND`.
pub const PATH_PREFIX: &str = "/app-health/";
/// The kubelet's own probe timeout ends the kubelet's wait; this bounds the proxy's.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// One app probe: a TCP connect to the port, or an HTTP GET when `path` is set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppProbe {
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// The probes by admin path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppProbes(pub BTreeMap<String, AppProbe>);

/// Parses `--app-probes`: a JSON object from admin path to probe.
pub fn parse(text: &str) -> Result<AppProbes, String> {
    let probes: BTreeMap<String, AppProbe> = serde_json::from_str(text)
        .map_err(|error| format!("--app-probes is not a JSON map of probes: {error}"))?;
    if let Some(path) = probes.keys().find(|path| !path.starts_with(PATH_PREFIX)) {
        return Err(format!(
            "--app-probes: {path:?} does not start with {PATH_PREFIX}"
        ));
    }
    Ok(AppProbes(probes))
}

impl AppProbes {
    pub fn get(&self, path: &str) -> Option<&AppProbe> {
        self.0.get(path)
    }
}

/// Runs `probe` against the app on loopback: the app's status for HTTP (a redirect
/// counts as success, as for the kubelet), 200 for an accepted TCP connection, and 503
/// when the app cannot be reached in time.
pub async fn check(probe: &AppProbe) -> StatusCode {
    match tokio::time::timeout(CHECK_TIMEOUT, run(probe)).await {
        Ok(Ok(status)) if status.is_redirection() => StatusCode::OK,
        Ok(Ok(status)) => status,
        Ok(Err(error)) => {
            tracing::debug!(port = probe.port, %error, "app probe failed");
            StatusCode::SERVICE_UNAVAILABLE
        }
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

async fn run(probe: &AppProbe) -> anyhow::Result<StatusCode> {
    let stream = TcpStream::connect(("127.0.0.1", probe.port)).await?;
    let Some(path) = &probe.path else {
        return Ok(StatusCode::OK);
    };
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = Request::get(path.as_str())
        .header(http::header::HOST, format!("127.0.0.1:{}", probe.port))
        .header(http::header::USER_AGENT, "kube-probe (meshcd-proxy)");
    for header in &probe.headers {
        request = request.header(header.name.as_str(), header.value.as_str());
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new())?)
        .await?;
    Ok(response.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_parse_from_the_injectors_json_and_paths_stay_under_the_prefix() {
        let probes = parse(
            r#"{"/app-health/api/readiness":{"port":8080,"path":"/healthz","headers":[{"name":"X-A","value":"1"}]},
                "/app-health/api/liveness":{"port":8080}}"#,
        )
        .unwrap();
        assert_eq!(
            probes
                .get("/app-health/api/readiness")
                .unwrap()
                .path
                .as_deref(),
            Some("/healthz")
        );
        assert_eq!(probes.get("/app-health/api/liveness").unwrap().path, None);
        assert!(
            parse(r#"{"/metrics":{"port":1}}"#)
                .unwrap_err()
                .contains("/app-health/")
        );
        assert!(parse(r#"{"/app-health/a/b":{"port":1,"host":"10.0.0.1"}}"#).is_err());
    }
}
