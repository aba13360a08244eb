//! A route rule's resilience, or an OSM Retry policy's: each attempt bounded by the rule's
//! `backendRequest` timeout (the policy's `perTryTimeout`), and failed attempts retried
//! (GEP-1731) after a doubling, jittered back-off that never waits less than the rule's,
//! while the destination's retry budget allows (`budget`). A failure is a connection that failed or broke, an attempt that timed
//! out, or an answer whose status the rule lists. A request is sent again from a copy of its
//! head and body, so its body is read first when it is small and of known size (at most
//! `REPLAYABLE` bytes); a larger or streamed body gets one attempt.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Either};
use hyper::body::{Body, Incoming};

use super::Outbound;
use super::error::ForwardError;
use super::send::{Upstream, replica, send};
use crate::metrics::PolicyEvent;
use crate::snapshot::Backend;
use crate::snapshot::{BudgetSettings, RetryPolicy};
use crate::upstream::UpstreamBody;
use meshcd_support::Backoff;

/// The largest request body kept to send again.
const REPLAYABLE: u64 = 64 * 1024;

/// How much longer than the first the longest wait between retries may grow.
const BACKOFF_GROWTH: u32 = 16;

/// Sends `request` to `backend`: each attempt within `timeout`, failed ones retried as
/// `policy` says while the destination's retry budget allows.
pub(super) async fn send_resilient(
    outbound: &Outbound,
    (backend, upstream): (&Backend, Upstream<'_>),
    request: Request<Incoming>,
    timeout: Option<Duration>,
    policy: Option<(&RetryPolicy, BudgetSettings)>,
) -> Result<Response<Incoming>, ForwardError> {
    let Some(policy) = policy else {
        let request = request.map(Either::Left);
        return attempt(outbound, backend, upstream, request, timeout).await;
    };
    let (parts, body) = request.into_parts();
    let body = match replayable(body).await? {
        Either::Left(body) => body,
        Either::Right(streamed) => {
            let request = Request::from_parts(parts, Either::Left(streamed));
            return attempt(outbound, backend, upstream, request, timeout).await;
        }
    };
    let head = Request::from_parts(parts, ());
    retried(
        outbound,
        (backend, upstream),
        (&head, &body),
        timeout,
        policy,
    )
    .await
}

async fn retried(
    outbound: &Outbound,
    (backend, upstream): (&Backend, Upstream<'_>),
    (head, body): (&Request<()>, &Bytes),
    timeout: Option<Duration>,
    (policy, budget_settings): (&RetryPolicy, BudgetSettings),
) -> Result<Response<Incoming>, ForwardError> {
    let mut backoff = Backoff::new(
        policy.backoff,
        policy
            .max_backoff
            .unwrap_or_else(|| policy.backoff.saturating_mul(BACKOFF_GROWTH)),
    );
    let budget = outbound.budgets.of(&backend.service);
    budget.called(Instant::now());
    let mut retry = 0;
    // Held by a retry while it is in flight, under a `maxRetries`.
    let mut _retry_slot = None;
    loop {
        let result = attempt(
            outbound,
            backend,
            upstream,
            replica(head, body.clone()),
            timeout,
        )
        .await;
        let failed = match &result {
            Ok(response) => policy.codes.contains(&response.status().as_u16()),
            Err(error) => {
                !policy.status_only
                    && matches!(
                        error,
                        ForwardError::Connect { .. }
                            | ForwardError::Upstream { .. }
                            | ForwardError::Timeout { .. }
                    )
            }
        };
        if !failed || retry == policy.attempts {
            return result;
        }
        if let Some(limits) = upstream.limits
            && let Some(max) = limits.max_retries
        {
            // This call's previous retry is over: its slot goes back before taking one.
            _retry_slot = None;
            let Some(slot) = outbound.breakers.slot(&backend.service, "maxRetries", max) else {
                outbound.overflowed(backend, &limits.name, "maxRetries");
                return result;
            };
            _retry_slot = Some(slot);
        }
        if !budget.try_retry(Instant::now(), budget_settings) {
            outbound.metrics.retry_budget_exhausted.inc();
            backend.count(PolicyEvent::RetryRefused);
            return result;
        }
        // The failed answer (if any) is dropped: its connection stream is released.
        drop(result);
        retry += 1;
        outbound.retried(backend);
        // Up to a quarter more, at random, so that callers that failed together do not
        // retry together; never less than the policy's wait.
        let delay = backoff.next_delay();
        tokio::time::sleep(delay + delay.mul_f64(rand::random::<f64>() / 4.0)).await;
    }
}

/// One attempt, waiting at most `timeout` (when the rule sets one) for its answer's head:
/// an endpoint that does not answer in time counts a failure towards its ejection.
async fn attempt(
    outbound: &Outbound,
    backend: &Backend,
    upstream: Upstream<'_>,
    request: Request<UpstreamBody>,
    timeout: Option<Duration>,
) -> Result<Response<Incoming>, ForwardError> {
    let upstream = Upstream {
        attempt_timeout: timeout,
        ..upstream
    };
    send(outbound, backend, upstream, request).await
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
