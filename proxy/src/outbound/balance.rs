//! Endpoint choice: power of two choices on in-flight load, skipping ejected endpoints
//! (unless all are, when ejection is ignored rather than failing every request).

use std::sync::Arc;

use rand::Rng;

use crate::upstream::endpoint::{Endpoint, now_millis};

/// Picks an endpoint, never `avoid` (the one a retry moves away from).
pub fn choose<'a>(
    endpoints: &'a [Arc<Endpoint>],
    avoid: Option<&Endpoint>,
) -> Option<&'a Arc<Endpoint>> {
    let now = now_millis();
    let allowed = |e: &Endpoint| avoid.is_none_or(|a| !std::ptr::eq(a, e));
    let usable = |e: &Endpoint| allowed(e) && !e.is_ejected(now);
    match endpoints.len() {
        0 => None,
        1 => endpoints.first().filter(|e| allowed(e)),
        n => {
            let mut rng = rand::rng();
            let first = rng.random_range(0..n);
            let mut second = rng.random_range(0..n - 1);
            if second >= first {
                second += 1;
            }
            let (a, b) = (&endpoints[first], &endpoints[second]);
            match (usable(a), usable(b)) {
                (true, true) => Some(if b.load() < a.load() { b } else { a }),
                (true, false) => Some(a),
                (false, true) => Some(b),
                (false, false) => {
                    let ring = (0..n).map(|i| &endpoints[(first + i) % n]);
                    ring.clone()
                        .find(|e| usable(e))
                        .or_else(|| ring.clone().find(|e| allowed(e)))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(n: usize) -> Vec<Arc<Endpoint>> {
        (0..n)
            .map(|i| Arc::new(Endpoint::new(&format!("127.0.0.1:{}", 1000 + i), "id")))
            .collect()
    }

    fn eject(endpoint: &Endpoint) {
        while !endpoint.failed(&Default::default(), || true) {}
    }

    #[test]
    fn the_less_loaded_of_two_wins() {
        let all = endpoints(2);
        let _busy = all[0].start();
        for _ in 0..100 {
            assert!(Arc::ptr_eq(choose(&all, None).unwrap(), &all[1]));
        }
    }

    #[test]
    fn ejected_endpoints_are_skipped_while_others_remain() {
        let all = endpoints(3);
        eject(&all[0]);
        eject(&all[1]);
        for _ in 0..100 {
            assert!(Arc::ptr_eq(choose(&all, None).unwrap(), &all[2]));
        }
    }

    #[test]
    fn when_every_endpoint_is_ejected_one_is_still_chosen() {
        let all = endpoints(2);
        eject(&all[0]);
        eject(&all[1]);
        assert!(choose(&all, None).is_some());
    }

    #[test]
    fn a_retry_never_returns_to_the_endpoint_it_left() {
        let all = endpoints(2);
        for _ in 0..100 {
            assert!(Arc::ptr_eq(choose(&all, Some(&all[0])).unwrap(), &all[1]));
        }
        let single = endpoints(1);
        assert!(choose(&single, Some(&single[0])).is_none());
        assert!(choose(&[], None).is_none());
    }
}
