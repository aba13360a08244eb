//! Git's smart HTTP protocol for the tests: a small hyper server (plain or TLS) that
//! demands Basic auth and runs `git http-backend` as a CGI program for every request it
//! lets through.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt as _;

/// Debian's git puts the backend here; other installs under `git --exec-path`.
fn backend() -> PathBuf {
    let debian = PathBuf::from("/usr/lib/git-core/git-http-backend");
    if debian.exists() {
        return debian;
    }
    let exec_path = super::run("git", &["--exec-path"], None);
    Path::new(&exec_path).join("git-http-backend")
}

/// One request as the server saw it, for tests that count what a fetch costs.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: u16,
}

struct Shared {
    root: PathBuf,
    /// (user, password) pairs that may fetch.
    accounts: Vec<(String, String)>,
    seen: Mutex<Vec<Seen>>,
}

pub struct HttpGitServer {
    pub address: SocketAddr,
    scheme: &'static str,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpGitServer {
    /// Serves the bare repositories under `root` to clients that give one of `accounts`.
    pub async fn start(root: &Path, accounts: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::serve(root, accounts, None).await
    }

    /// The same over TLS, with a self-signed certificate for 127.0.0.1 written to
    /// `certificate` (PEM) for clients to trust.
    pub async fn start_https(
        root: &Path,
        accounts: &[(&str, &str)],
        certificate: &Path,
    ) -> anyhow::Result<Self> {
        let key = rcgen::KeyPair::generate()?;
        let issued =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])?.self_signed(&key)?;
        std::fs::write(certificate, issued.pem())?;
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![issued.der().clone()], key)?;
        Self::serve(
            root,
            accounts,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
        )
        .await
    }

    async fn serve(
        root: &Path,
        accounts: &[(&str, &str)],
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            accounts: accounts
                .iter()
                .map(|(user, password)| (user.to_string(), password.to_string()))
                .collect(),
            seen: Mutex::new(Vec::new()),
        });
        let serving = shared.clone();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = serving.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| handle(shared.clone(), request));
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match tls {
                        None => {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                        Some(acceptor) => {
                            // A client that does not trust the certificate hangs up here.
                            let Ok(stream) = acceptor.accept(stream).await else {
                                return;
                            };
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    }
                });
            }
        });
        Ok(HttpGitServer {
            address,
            scheme,
            shared,
            task,
        })
    }

    /// The URL of repository `name` (`<root>/<name>.git`).
    pub fn url(&self, name: &str) -> String {
        format!("{}://{}/{name}.git", self.scheme, self.address)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("lock").clone()
    }
}

impl Drop for HttpGitServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = match authorized_user(&shared, &request) {
        None => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"who are you?\n")));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().insert(
                hyper::header::WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Basic realm=\"git\""),
            );
            response
        }
        Some(user) => match cgi(&shared.root, &user, request).await {
            Ok(response) => response,
            Err(error) => {
                let mut response = Response::new(Full::new(Bytes::from(error.to_string())));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        },
    };
    shared.seen.lock().expect("lock").push(Seen {
        method,
        path,
        status: response.status().as_u16(),
    });
    Ok(response)
}

fn authorized_user(shared: &Shared, request: &Request<Incoming>) -> Option<String> {
    let header = request
        .headers()
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let encoded = header.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    shared
        .accounts
        .iter()
        .any(|(u, p)| u == user && p == password)
        .then(|| user.to_string())
}

/// Runs git-http-backend with the CGI environment for this request.
async fn cgi(
    root: &Path,
    user: &str,
    request: Request<Incoming>,
) -> anyhow::Result<Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let mut child = tokio::process::Command::new(backend())
        .env_clear()
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .env("REMOTE_USER", user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&body).await;
    });
    let output = child.wait_with_output().await?;
    let _ = writer.await;
    let text = output.stdout;
    let split = text
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, 4))
        .or_else(|| text.windows(2).position(|w| w == b"\n\n").map(|at| (at, 2)))
        .ok_or_else(|| anyhow::anyhow!("git-http-backend wrote no CGI headers"))?;
    let head = String::from_utf8_lossy(&text[..split.0]).to_string();
    let mut response = Response::new(Full::new(Bytes::copy_from_slice(
        &text[split.0 + split.1..],
    )));
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code: u16 = value
                .split_whitespace()
                .next()
                .and_then(|code| code.parse().ok())
                .unwrap_or(500);
            *response.status_mut() = StatusCode::from_u16(code)?;
        } else {
            response.headers_mut().append(
                hyper::header::HeaderName::from_bytes(name.trim().as_bytes())?,
                hyper::header::HeaderValue::from_str(value)?,
            );
        }
    }
    Ok(response)
}
