//! The CLI's calls to a running reconciler's admin API, over the shared HTTP client, with
//! the admin token as bearer credentials.

use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;

use super::admin_token::Credentials;
use crate::http_client::{ClientError, HttpClient, Limits};

/// The admin API answers from memory; a reconciler that takes longer is stuck.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);
/// `/status` lists every proxy and canary: some 1 KiB each, so 16 MiB is ten thousand
/// proxies with room to spare, and still a bound on what a wrong port can make us buffer.
const ADMIN_BODY_LIMIT: usize = 16 * 1024 * 1024;
const ADMIN_LIMITS: Limits = Limits {
    timeout: ADMIN_TIMEOUT,
    body: ADMIN_BODY_LIMIT,
};

/// One client per CLI process (one runtime), so that `top` and the demo's polling reuse
/// their connection.
fn client() -> &'static HttpClient {
    static CLIENT: OnceLock<HttpClient> = OnceLock::new();
    CLIENT.get_or_init(HttpClient::plain)
}

/// Sends one request and returns the status and body. A 401 or 403 body is followed by
/// where the CLI looked for the token.
pub async fn call(
    method: &str,
    url: &str,
    credentials: &Credentials,
) -> anyhow::Result<(u16, String)> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        bail!("{url}: only http:// admin URLs are supported");
    }
    let authority = uri.authority().context("the URL has no host")?.clone();
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = &credentials.token {
        request = request.header(
            hyper::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        );
    }
    let request = request.body(Full::new(Bytes::new()))?;
    let answer = client()
        .send(request, ADMIN_LIMITS)
        .await
        .map_err(|error| match error {
            ClientError::Connect { source, .. } => anyhow::Error::new(source)
                .context(format!("connecting to {authority}: is meshcd running?")),
            error => error.into(),
        })?;
    let status = answer.status;
    let mut body = String::from_utf8_lossy(&answer.body).into_owned();
    if status == hyper::StatusCode::UNAUTHORIZED || status == hyper::StatusCode::FORBIDDEN {
        let hint = match &credentials.token {
            None => format!(
                "no admin token at {}: pass --state-dir (the reconciler's) or --admin-token-file",
                credentials.looked_at.display()
            ),
            Some(_) => format!(
                "the token sent was read from {}",
                credentials.looked_at.display()
            ),
        };
        body = format!("{} ({hint})", body.trim_end());
    }
    Ok((status.as_u16(), body))
}
