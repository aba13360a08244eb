//! One request to a backend: on a pooled connection to one of its endpoints, chosen by
//! load, with one retry elsewhere when the connection failed (and, for a request that left,
//! only when it is idempotent and bodiless); failures count towards ejecting an endpoint.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, Uri};
use http_body_util::{Either, Full};
use hyper::body::{Body, Incoming};

use super::error::ForwardError;
use super::{Outbound, balance};
use crate::http::hop::{APP_UNAVAILABLE, PROXY_ERROR_HEADER};
use crate::snapshot::Backend;
use crate::snapshot::limits::{Limits, Outlier};
use crate::upstream::UpstreamBody;
use crate::upstream::endpoint::{Endpoint, now_millis};
use meshcd_support::error_chain;

/// Safe to send twice: an idempotent method without a body.
fn retryable(request: &Request<UpstreamBody>) -> bool {
    matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    ) && request.body().is_end_stream()
}

/// A request with `head`'s method, URI, version and headers, and `body`: a copy to send
/// again (a retry) or elsewhere (a mirror).
pub(super) fn replica<B>(head: &Request<B>, body: Bytes) -> Request<UpstreamBody> {
    let mut copy = Request::new(Either::Right(Full::new(body)));
    *copy.method_mut() = head.method().clone();
    *copy.uri_mut() = Uri::clone(head.uri());
    *copy.version_mut() = head.version();
    *copy.headers_mut() = head.headers().clone();
    copy
}

/// `sent`, or a timeout error once `timeout` (if any) has passed.
pub(super) async fn within<T>(
    timeout: Option<Duration>,
    backend: &Backend,
    sent: impl Future<Output = Result<T, ForwardError>>,
) -> Result<T, ForwardError> {
    let Some(timeout) = timeout else {
        return sent.await;
    };
    match tokio::time::timeout(timeout, sent).await {
        Ok(result) => result,
        Err(_) => Err(ForwardError::Timeout {
            backend: backend.service.clone(),
            timeout,
        }),
    }
}

/// Sends on a pooled connection. A request that never left (no connection) is retried
/// once on another endpoint whatever its method; one that left is retried only when it
/// is idempotent and bodiless (a copy is kept for that, and only when there is another
/// endpoint to go to). An answer's head late past `upstream.attempt_timeout` is a timeout,
/// and a failure of that endpoint.
///
/// Long because its two attempts share one loop's state (the spare copy, the endpoint to
/// avoid, the last error) and each outcome counts towards the endpoint's ejection.
pub(super) async fn send(
    outbound: &Outbound,
    backend: &Backend,
    upstream: Upstream<'_>,
    request: Request<UpstreamBody>,
) -> Result<Response<Incoming>, ForwardError> {
    let mut spare = (backend.endpoints.len() > 1 && retryable(&request))
        .then(|| replica(&request, Bytes::new()));
    let mut unsent = Some(request);
    let mut avoid = None;
    let mut last_error = ForwardError::NoEndpoints {
        backend: backend.service.clone(),
    };
    for attempt in 0..2 {
        let Some(endpoint) = balance::choose(&backend.endpoints, avoid.as_deref()) else {
            break;
        };
        let Some(request) = unsent.take().or_else(|| spare.take()) else {
            break;
        };
        if attempt > 0 {
            outbound.retried(backend);
        }
        let _in_flight = endpoint.start();
        let per_connection = upstream.limits.and_then(|l| l.max_requests_per_connection);
        let connected = outbound
            .pool
            .http(endpoint, upstream.connect_timeout, per_connection)
            .await;
        let mut sender = match connected {
            Ok(sender) => sender,
            Err(source) => {
                fail(outbound, backend, endpoint, upstream);
                unsent = Some(request);
                last_error = ForwardError::Connect {
                    backend: backend.service.clone(),
                    source,
                };
                avoid = Some(endpoint.clone());
                continue;
            }
        };
        let answered = match upstream.attempt_timeout {
            None => sender.try_send_request(request).await,
            Some(timeout) => {
                // Boxed: its timer would otherwise enlarge every request's future.
                let timed = Box::pin(tokio::time::timeout(
                    timeout,
                    sender.try_send_request(request),
                ));
                match timed.await {
                    Ok(answered) => answered,
                    // A hung endpoint counts towards its ejection, as Envoy counts it.
                    Err(_) => {
                        fail(outbound, backend, endpoint, upstream);
                        return Err(ForwardError::Timeout {
                            backend: backend.service.clone(),
                            timeout,
                        });
                    }
                }
            }
        };
        match answered {
            Ok(response) => {
                let app_unavailable = response
                    .headers()
                    .get(&PROXY_ERROR_HEADER)
                    .is_some_and(|v| v == APP_UNAVAILABLE);
                if app_unavailable {
                    fail(outbound, backend, endpoint, upstream);
                    if attempt == 0 && spare.is_some() {
                        avoid = Some(endpoint.clone());
                        last_error = ForwardError::Upstream {
                            backend: backend.service.clone(),
                            endpoint: endpoint.address.clone(),
                            message: "the app behind it is unavailable".into(),
                        };
                        continue;
                    }
                } else if !response.status().is_server_error() {
                    endpoint.succeeded();
                } else if upstream.outlier().counts_5xx {
                    fail(outbound, backend, endpoint, upstream);
                }
                // Else a 5xx is neither: the connection worked, the answer did not.
                return Ok(response);
            }
            Err(mut error) => {
                fail(outbound, backend, endpoint, upstream);
                unsent = error.take_message();
                last_error = ForwardError::Upstream {
                    backend: backend.service.clone(),
                    endpoint: endpoint.address.clone(),
                    message: error_chain(error.error()),
                };
                avoid = Some(endpoint.clone());
            }
        }
    }
    Err(last_error)
}

/// Counts a failure of `endpoint`, ejecting it when the outlier rule says so and the
/// backend can spare it.
pub(super) fn fail(
    outbound: &Outbound,
    backend: &Backend,
    endpoint: &Endpoint,
    upstream: Upstream<'_>,
) {
    let outlier = upstream.outlier();
    let may_eject = || {
        let now = now_millis();
        let out = backend
            .endpoints
            .iter()
            .filter(|e| e.is_ejected(now))
            .count();
        outlier.may_eject(out, backend.endpoints.len())
    };
    if endpoint.failed(&outlier, may_eject) {
        outbound.metrics.ejections.inc();
    }
}

/// How calls reach a backend's endpoints: the connect timeout (the Mesh's, or the
/// destination's UpstreamTrafficSetting's) and that setting's limits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Upstream<'a> {
    pub connect_timeout: Duration,
    pub limits: Option<&'a Limits>,
    /// How long one attempt may wait for its answer's head (a rule's `backendRequest`
    /// timeout, a Retry's `perTryTimeout`); `None`: the request timeout alone.
    pub attempt_timeout: Option<Duration>,
}

impl Upstream<'_> {
    pub fn outlier(&self) -> Outlier {
        self.limits.map(|limits| limits.outlier).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_idempotent_bodiless_requests_are_retried_after_being_sent() {
        let get: Request<UpstreamBody> = Request::new(Either::Right(Full::new(Bytes::new())));
        assert!(retryable(&get));
        let mut post: Request<UpstreamBody> = Request::new(Either::Right(Full::new(Bytes::new())));
        *post.method_mut() = Method::POST;
        assert!(!retryable(&post));
        let copy = replica(&get, Bytes::new());
        assert_eq!(copy.method(), Method::GET);
    }
}
