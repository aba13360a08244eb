//! Idle keep-alive connections to the local app, per app address: the most recently
//! returned one is taken first, and ones idle too long are closed rather than reused.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An idle connection older than this is closed rather than reused (apps close idle
/// keep-alive connections too, typically after a minute or more).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle connections kept per app address; more are closed when they come back.
const MAX_IDLE: usize = 512;

/// An app address's idle connections, oldest first, with the time each came back.
type List<C> = Vec<(C, Instant)>;

pub struct IdleConnections<C> {
    /// A workload has a handful of app addresses at most: a scan comparing them is
    /// cheaper than hashing the address twice a request.
    lists: Mutex<Vec<(Arc<str>, List<C>)>>,
}

impl<C> Default for IdleConnections<C> {
    fn default() -> Self {
        Self {
            lists: Mutex::new(Vec::new()),
        }
    }
}

impl<C> IdleConnections<C> {
    /// The most recently returned connection to `address` that is not expired.
    pub fn take(&self, address: &str) -> Option<C> {
        let now = Instant::now();
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let list = lists
            .iter_mut()
            .find(|(known, _)| **known == *address)
            .map(|(_, list)| list)?;
        while let Some((connection, since)) = list.pop() {
            if now.duration_since(since) <= IDLE_TIMEOUT {
                return Some(connection);
            }
        }
        None
    }

    /// Keeps `connection` for the next request to `address`.
    pub fn put(&self, address: &Arc<str>, connection: C) {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        let index = match lists.iter().position(|(known, _)| known == address) {
            Some(index) => index,
            None => {
                lists.push((address.clone(), Vec::new()));
                lists.len() - 1
            }
        };
        let list = &mut lists[index].1;
        let now = Instant::now();
        // The oldest sit at the front: expire them as newer ones come back.
        let expired = list
            .iter()
            .take_while(|(_, since)| now.duration_since(*since) > IDLE_TIMEOUT)
            .count();
        list.drain(..expired);
        if list.len() < MAX_IDLE {
            list.push((connection, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_recently_returned_connection_is_taken_first_and_only_for_its_address() {
        let idle = IdleConnections::default();
        let a: Arc<str> = Arc::from("127.0.0.1:1");
        let b: Arc<str> = Arc::from("127.0.0.1:2");
        idle.put(&a, 1);
        idle.put(&a, 2);
        idle.put(&b, 3);
        assert_eq!(idle.take("127.0.0.1:1"), Some(2));
        assert_eq!(idle.take("127.0.0.1:1"), Some(1));
        assert_eq!(idle.take("127.0.0.1:1"), None);
        assert_eq!(idle.take("127.0.0.1:2"), Some(3));
        assert_eq!(idle.take("127.0.0.1:9"), None);
    }
}
