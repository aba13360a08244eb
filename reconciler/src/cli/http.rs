//! A minimal HTTP/1.1 client for the CLI's calls to a running reconciler's admin API,
//! with the admin token as bearer credentials.

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;

use super::admin_token::Credentials;
use crate::http_client::ExchangeError;

/// Sends one request and returns the status and body. A 401 body is followed by where
/// the CLI looked for the token.
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
    let mut request = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    if let Some(token) = &credentials.token {
        request = request.header(
            hyper::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        );
    }
    let request = request.body(Full::new(Bytes::new()))?;
    let (status, body) = crate::http_client::exchange(authority.as_str(), request)
        .await
        .map_err(|error| match error {
            ExchangeError::Connect { source, .. } => anyhow::Error::new(source)
                .context(format!("connecting to {authority}: is meshcd running?")),
            ExchangeError::Http(error) => error.into(),
        })?;
    let mut body = String::from_utf8_lossy(&body).into_owned();
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
