//! A route rule's resilience: each attempt bounded by the rule's `backendRequest` timeout,
//! and failed attempts retried (GEP-1731) after a doubling back-off that never waits less
//! than the rule's. A failure is a connection that failed or broke, an attempt that timed
//! out, or an answer whose status the rule lists. A request is sent again from a copy of its
//! head and body, so its body is read first when it is small and of known size (at most
//! `REPLAYABLE` bytes); a larger or streamed body gets one attempt.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Either};
use hyper::body::{Body, Incoming};

use super::Outbound;
use super::error::ForwardError;
use super::send::{replica, send, within};
use crate::snapshot::Backend;
use crate::snapshot::RetryPolicy;
use crate::snapshot::routes::Rule;
use crate::upstream::UpstreamBody;
use meshcd_support::Backoff;

/// The largest request body kept to send again.
const REPLAYABLE: u64 = 64 * 1024;

/// How much longer than the first the longest wait between retries may grow.
const BACKOFF_GROWTH: u32 = 16;

/// Sends `request` to `backend` as `rule` says: each attempt within its timeout, failed
/// ones retried.
pub(super) async fn send_by_rule(
    outbound: &Outbound,
    backend: &Backend,
    connect_timeout: Duration,
    request: Request<Incoming>,
    rule: &Rule,
) -> Result<Response<Incoming>, ForwardError> {
    let timeout = rule.backend_timeout;
    let Some(policy) = &rule.retry else {
        let request = request.map(Either::Left);
        return attempt(outbound, backend, connect_timeout, request, timeout).await;
    };
    let (parts, body) = request.into_parts();
    let body = match replayable(body).await? {
        Either::Left(body) => body,
        Either::Right(streamed) => {
            let request = Request::from_parts(parts, Either::Left(streamed));
            return attempt(outbound, backend, connect_timeout, request, timeout).await;
        }
    };
    let head = Request::from_parts(parts, ());
    retried(
        outbound,
        backend,
        connect_timeout,
        (&head, &body),
        timeout,
        policy,
    )
    .await
}

async fn retried(
    outbound: &Outbound,
    backend: &Backend,
    connect_timeout: Duration,
    (head, body): (&Request<()>, &Bytes),
    timeout: Option<Duration>,
    policy: &RetryPolicy,
) -> Result<Response<Incoming>, ForwardError> {
    let mut backoff = Backoff::new(
        policy.backoff,
        policy.backoff.saturating_mul(BACKOFF_GROWTH),
    );
    let mut retry = 0;
    loop {
        let result = attempt(
            outbound,
            backend,
            connect_timeout,
            replica(head, body.clone()),
            timeout,
        )
        .await;
        let failed = match &result {
            Ok(response) => policy.codes.contains(&response.status().as_u16()),
            Err(error) => matches!(
                error,
                ForwardError::Connect { .. }
                    | ForwardError::Upstream { .. }
                    | ForwardError::Timeout { .. }
            ),
        };
        if !failed || retry == policy.attempts {
            return result;
        }
        // The failed answer (if any) is dropped: its connection stream is released.
        drop(result);
        retry += 1;
        outbound.metrics.retries.inc();
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// One attempt, within `timeout` when the rule sets one.
async fn attempt(
    outbound: &Outbound,
    backend: &Backend,
    connect_timeout: Duration,
    request: Request<UpstreamBody>,
    timeout: Option<Duration>,
) -> Result<Response<Incoming>, ForwardError> {
    within(
        timeout,
        backend,
        send(outbound, backend, connect_timeout, request),
    )
    .await
}

/// The body read in full when it may be (left), else as it is (right).
async fn replayable(body: Incoming) -> Result<Either<Bytes, Incoming>, ForwardError> {
    if body.is_end_stream() {
        return Ok(Either::Left(Bytes::new()));
    }
    match body.size_hint().upper() {
        Some(size) if size <= REPLAYABLE => {
            let collected = body
                .collect()
                .await
                .map_err(|error| ForwardError::RequestBody(meshcd_support::error_chain(&error)))?;
            Ok(Either::Left(collected.to_bytes()))
        }
        _ => Ok(Either::Right(body)),
    }
}
