//! Circuit breakers (an UpstreamTrafficSetting's `maxRequests` and `maxPendingRequests`):
//! at most that many calls from this proxy to a Service in flight, that many more waiting
//! for a slot, and the rest answered 503 at once, before any connection is tried. Also the
//! plain caps without a waiting room: TCP connections (`maxConnections`) and retries in
//! flight (`maxRetries`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::snapshot::limits::Limits;

/// A cap's size and its slots.
type Cap = (u32, Arc<Semaphore>);

/// One breaker per destination (`name.namespace`), kept across snapshots while its
/// limits stay the same (the calls in flight keep their slots).
#[derive(Debug, Default)]
pub struct Breakers {
    by_destination: Mutex<HashMap<Arc<str>, Arc<Breaker>>>,
    /// Caps without a waiting room, by destination and limit: the cap and its slots.
    caps: Mutex<HashMap<(Arc<str>, &'static str), Cap>>,
}

impl Breakers {
    /// One of `max` slots of `limit` for `destination`, held until dropped; `None` when
    /// all are taken. A changed `max` starts over (slots held keep their old count).
    pub fn slot(
        &self,
        destination: &Arc<str>,
        limit: &'static str,
        max: u32,
    ) -> Option<OwnedSemaphorePermit> {
        let slots = {
            let mut caps = self.caps.lock().unwrap_or_else(|p| p.into_inner());
            let cap = caps
                .entry((destination.clone(), limit))
                .or_insert_with(|| (max, Arc::new(Semaphore::new(max as usize))));
            if cap.0 != max {
                *cap = (max, Arc::new(Semaphore::new(max as usize)));
            }
            cap.1.clone()
        };
        slots.try_acquire_owned().ok()
    }

    pub fn of(&self, destination: &Arc<str>, limits: &Limits) -> Option<Arc<Breaker>> {
        let (max_requests, _) = limits.concurrency()?;
        let mut breakers = self
            .by_destination
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let breaker = breakers
            .entry(destination.clone())
            .or_insert_with(|| Breaker::new(limits, max_requests));
        // Only a change of what the breaker enforces starts it over.
        let enforced = |l: &Limits| (l.concurrency(), l.max_pending_requests);
        if enforced(&breaker.limits) != enforced(limits) {
            *breaker = Breaker::new(limits, max_requests);
        }
        Some(breaker.clone())
    }
}

#[derive(Debug)]
pub struct Breaker {
    limits: Limits,
    slots: Arc<Semaphore>,
    waiting: AtomicU32,
}

/// Which limit refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// Every slot taken and nobody may wait.
    Requests,
    /// The same, the slots being set by `maxConnections` (the smaller).
    Connections,
    /// Every slot taken and the waiting room full.
    PendingRequests,
}

impl Overflow {
    pub fn as_str(self) -> &'static str {
        match self {
            Overflow::Requests => "maxRequests",
            Overflow::Connections => "maxConnections",
            Overflow::PendingRequests => "maxPendingRequests",
        }
    }
}

impl Breaker {
    fn new(limits: &Limits, max_requests: u32) -> Arc<Breaker> {
        Arc::new(Breaker {
            limits: limits.clone(),
            slots: Arc::new(Semaphore::new(max_requests as usize)),
            waiting: AtomicU32::new(0),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A slot for one call, held until the permit is dropped; waits for one when the
    /// waiting room has space, else refuses at once.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, Overflow> {
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let allowed = self.limits.max_pending_requests;
        if allowed == 0 {
            return Err(match self.limits.concurrency() {
                Some((_, "maxConnections")) => Overflow::Connections,
                _ => Overflow::Requests,
            });
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= allowed {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Overflow::PendingRequests);
        }
        let permit = self.slots.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        // The semaphore is never closed.
        permit.map_err(|_| Overflow::Requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_requests: u32, max_pending_requests: u32) -> Limits {
        Limits {
            name: "shop/api".into(),
            max_requests: Some(max_requests),
            max_pending_requests,
            connect_timeout: None,
            max_connections: None,
            max_requests_per_connection: None,
            max_retries: None,
            outlier: Default::default(),
        }
    }

    #[tokio::test]
    async fn calls_over_the_slots_and_the_waiting_room_are_refused_at_once() {
        let breakers = Breakers::default();
        let breaker = breakers.of(&"api.shop".into(), &limits(2, 1)).unwrap();
        let first = breaker.admit().await.unwrap();
        let _second = breaker.admit().await.unwrap();
        let waiter = {
            let breaker = breaker.clone();
            tokio::spawn(async move { breaker.admit().await.map(drop) })
        };
        tokio::task::yield_now().await;
        while breaker.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(breaker.admit().await.err(), Some(Overflow::PendingRequests));
        drop(first);
        assert_eq!(
            waiter.await.unwrap(),
            Ok(()),
            "the waiting call gets the freed slot"
        );
    }

    #[tokio::test]
    async fn without_a_waiting_room_the_excess_is_refused_and_changed_limits_start_over() {
        let breakers = Breakers::default();
        let destination: Arc<str> = "api.shop".into();
        let breaker = breakers.of(&destination, &limits(1, 0)).unwrap();
        let _held = breaker.admit().await.unwrap();
        assert_eq!(breaker.admit().await.err(), Some(Overflow::Requests));
        let wider = breakers.of(&destination, &limits(2, 0)).unwrap();
        assert!(wider.admit().await.is_ok());
        let unlimited = Limits {
            max_requests: None,
            ..limits(1, 0)
        };
        assert!(breakers.of(&destination, &unlimited).is_none());
        let by_connections = Limits {
            max_connections: Some(1),
            ..limits(5, 0)
        };
        let fewer = breakers.of(&destination, &by_connections).unwrap();
        let _one = fewer.admit().await.unwrap();
        assert_eq!(fewer.admit().await.err(), Some(Overflow::Connections));
    }

    #[test]
    fn a_cap_hands_out_its_slots_and_takes_them_back() {
        let breakers = Breakers::default();
        let destination: Arc<str> = "db.shop".into();
        let first = breakers.slot(&destination, "maxConnections", 2);
        let second = breakers.slot(&destination, "maxConnections", 2);
        assert!(first.is_some() && second.is_some());
        assert!(breakers.slot(&destination, "maxConnections", 2).is_none());
        assert!(
            breakers.slot(&destination, "maxRetries", 2).is_some(),
            "another cap"
        );
        drop(first);
        assert!(breakers.slot(&destination, "maxConnections", 2).is_some());
    }
}
