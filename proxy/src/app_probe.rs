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
            tracing::debug!(port = probe.port, error = %meshcd_support::error_chain(&*error), "app probe failed");
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
    let mut request = Request::get(path.as_str());
    for header in &probe.headers {
        request = request.header(header.name.as_str(), header.value.as_str());
    }
    let mut request = request.body(Empty::<Bytes>::new())?;
    // The kubelet's defaults, unless the probe sets them (a virtual host's Host).
    let headers = request.headers_mut();
    if !headers.contains_key(http::header::HOST) {
        headers.insert(
            http::header::HOST,
            format!("127.0.0.1:{}", probe.port).parse()?,
        );
    }
    if !headers.contains_key(http::header::USER_AGENT) {
        headers.insert(
            http::header::USER_AGENT,
            http::HeaderValue::from_static("kube-probe (meshcd-proxy)"),
        );
    }
    status_of(stream, request).await
}

/// Sends one bodiless HTTP/1.1 request on `stream` and returns the answer's status (the
/// app probes here, and `meshcd-proxy wait-ready`).
pub async fn status_of(
    stream: TcpStream,
    request: Request<Empty<Bytes>>,
) -> anyhow::Result<StatusCode> {
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender.send_request(request).await?.status())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// An app on loopback that answers `status` once; the request head it read.
    async fn app(status: u16) -> (u16, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut buffer = [0u8; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                let read = stream.read(&mut buffer).await.unwrap();
                if read == 0 {
                    break;
                }
                head.extend_from_slice(&buffer[..read]);
            }
            let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&head).to_lowercase()
        });
        (port, task)
    }

    #[tokio::test]
    async fn an_http_probe_gets_the_apps_status_with_the_probes_own_host_header() {
        let (port, head) = app(503).await;
        let probe = AppProbe {
            port,
            path: Some("/healthz".into()),
            headers: vec![Header {
                name: "Host".into(),
                value: "shop.example".into(),
            }],
        };
        assert_eq!(check(&probe).await, StatusCode::SERVICE_UNAVAILABLE);
        let head = head.await.unwrap();
        assert!(head.starts_with("get /healthz http/1.1"), "{head}");
        assert_eq!(head.matches("host:").count(), 1, "{head}");
        assert!(head.contains("host: shop.example"), "{head}");
        assert!(head.contains("user-agent: kube-probe"), "{head}");

        let (port, _) = app(301).await;
        let redirect = AppProbe {
            port,
            path: Some("/".into()),
            headers: vec![],
        };
        assert_eq!(
            check(&redirect).await,
            StatusCode::OK,
            "a redirect passes, as for the kubelet"
        );
    }

    #[tokio::test]
    async fn a_tcp_probe_passes_when_the_port_accepts_and_fails_when_nothing_listens() {
        let (port, _app) = app(200).await;
        let open = AppProbe {
            port,
            path: None,
            headers: vec![],
        };
        assert_eq!(check(&open).await, StatusCode::OK);
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let closed = AppProbe {
            port: closed,
            path: None,
            headers: vec![],
        };
        assert_eq!(check(&closed).await, StatusCode::SERVICE_UNAVAILABLE);
    }

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
