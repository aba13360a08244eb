//! A minimal HTTP/1.1 client for the CLI's calls to a running reconciler's admin API.

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;

use crate::http_client::ExchangeError;

/// Sends one request and returns the status and body.
pub async fn call(method: &str, url: &str) -> anyhow::Result<(u16, String)> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
    if uri.scheme_str() != Some("http") {
        bail!("{url}: only http:// admin URLs are supported");
    }
    let authority = uri.authority().context("the URL has no host")?.clone();
    let request = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .body(Full::new(Bytes::new()))?;
    let (status, body) = crate::http_client::exchange(authority.as_str(), request)
        .await
        .map_err(|error| match error {
            ExchangeError::Connect { source, .. } => anyhow::Error::new(source)
                .context(format!("connecting to {authority}: is meshcd running?")),
            ExchangeError::Http(error) => error.into(),
        })?;
    Ok((status.as_u16(), String::from_utf8_lossy(&body).into_owned()))
}
