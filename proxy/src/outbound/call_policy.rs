//! The policies on one call, applied by the calling proxy around `http::forward`: a
//! Fault's delay and abort, and a slot of the destination's circuit breaker (an
//! UpstreamTrafficSetting's limits); the Retry policy is `forward`'s.

use http::{HeaderValue, Request, Response};
use hyper::body::Incoming;
use tokio::sync::OwnedSemaphorePermit;

use super::Outbound;
use super::http::forward;
use crate::http::respond::{self, ResponseBody};
use crate::metrics::PolicyEvent;
use crate::snapshot::fault::{Fault, Injected};
use crate::snapshot::limits::Limits;
use crate::snapshot::routes::Rule;
use crate::snapshot::{Backend, Service, Snapshot};

/// The call to `backend` (chosen for `service`) under the policies on it: a Fault's
/// delay and abort, a slot of the destination's breaker, then `forward`.
pub(super) async fn call(
    outbound: &Outbound,
    snapshot: &Snapshot,
    (service, backend): (&Service, &Backend),
    port: u16,
    request: Request<Incoming>,
    rule: Option<(&Rule, usize)>,
) -> (Response<ResponseBody>, Injected) {
    let policy = snapshot.client_policy(service, backend);
    let fault = policy
        .fault
        .filter(|f| f.applies(request.method(), request.uri().path(), request.headers()));
    let injected = inject(outbound, backend, fault).await;
    let by_rule = rule.map(|(rule, _)| rule);
    // Held until the answer's head is in: a slot of the destination's breaker.
    let admitted = match policy.limits {
        Some(limits) if injected.abort.is_none() => admit(outbound, backend, limits).await,
        _ => Ok(None),
    };
    let response = match (injected.abort, admitted) {
        (Some(status), _) => aborted(status, backend),
        (None, Err(overflowed)) => overflowed,
        (None, Ok(_slot)) => match forward(
            outbound,
            snapshot,
            backend,
            port,
            request,
            (by_rule, policy),
        )
        .await
        {
            Ok(mut response) => {
                if let Some((rule, chosen)) = rule {
                    rule.modify_response(chosen, response.headers_mut());
                }
                response
            }
            Err(error) => {
                tracing::info!(destination = %service.name, error = %meshcd_support::error_chain(&error), "outbound request failed");
                error.into_response()
            }
        },
    };
    (response, injected)
}

/// The faults this call draws from `fault` (the backend's, else the called Service's),
/// counted; a delay is served here.
async fn inject(outbound: &Outbound, backend: &Backend, fault: Option<&Fault>) -> Injected {
    let Some(fault) = fault else {
        return Injected::default();
    };
    let injected = fault.draw();
    let happened = (injected.delay.is_some(), injected.abort.is_some());
    outbound.metrics.fault_injected(&fault.name, happened);
    if happened.0 || happened.1 {
        backend.count(PolicyEvent::FaultInjected);
    }
    if let Some(delay) = injected.delay {
        tokio::time::sleep(delay).await;
    }
    injected
}

/// A slot for a call to `backend` under `limits` (`None`: they set no `maxRequests`), or
/// the 503 that refuses it at once, saying which limit.
async fn admit(
    outbound: &Outbound,
    backend: &Backend,
    limits: &Limits,
) -> Result<Option<OwnedSemaphorePermit>, Response<ResponseBody>> {
    let Some(breaker) = outbound.breakers.of(&backend.service, limits) else {
        return Ok(None);
    };
    match breaker.admit().await {
        Ok(slot) => Ok(Some(slot)),
        Err(overflow) => {
            outbound.overflowed(backend, &limits.name, overflow.as_str());
            let mut response = respond::text(
                http::StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "meshcd: call to {} refused: {} calls in flight and {} waiting, the limits of UpstreamTrafficSetting {} ({} reached)",
                    backend.service,
                    limits.concurrency().map_or(0, |(slots, _)| slots),
                    limits.max_pending_requests,
                    limits.name,
                    overflow.as_str()
                ),
            );
            response.headers_mut().insert(
                &OVERFLOW_HEADER,
                HeaderValue::from_static(overflow.as_str()),
            );
            Err(response)
        }
    }
}

/// Names the limit that refused a call.
static OVERFLOW_HEADER: http::HeaderName = http::HeaderName::from_static("x-meshcd-overflow");

/// The answer to a call a Fault aborts: never sent, and said so, so that nobody chases
/// the status in the backend's logs.
#[cold]
fn aborted(status: http::StatusCode, backend: &Backend) -> Response<ResponseBody> {
    let mut response = respond::text(
        status,
        format!(
            "fault injected by meshcd: call to {} aborted",
            backend.service
        ),
    );
    response
        .headers_mut()
        .insert(&FAULT_HEADER, HeaderValue::from_static("abort"));
    response
}

/// Marks a response a Fault made.
static FAULT_HEADER: http::HeaderName = http::HeaderName::from_static("x-meshcd-fault");
