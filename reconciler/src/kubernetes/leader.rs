//! Leader election on a `coordination.k8s.io` Lease: every replica serves the control
//! plane, only the leader applies to the cluster and runs canaries.
//!
//! The holder renews the lease every `retry` period; another replica takes it over once
//! `renewTime + leaseDuration` has passed. Every write is a replace with the
//! resourceVersion that was read, so two replicas can never both win one round. A leader
//! that cannot renew in time steps down before its lease could be taken over.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Election {
    pub namespace: String,
    pub lease: String,
    /// This replica's name (its pod name).
    pub identity: String,
    pub lease_duration: Duration,
    /// How often the holder renews and the others check.
    pub retry: Duration,
}

impl Election {
    /// Standard timings: a 15 s lease, renewed or checked every 2 s.
    pub fn new(namespace: &str, lease: &str, identity: &str) -> Self {
        Election {
            namespace: namespace.into(),
            lease: lease.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            retry: Duration::from_secs(2),
        }
    }

    /// Campaigns forever; `leader` is true exactly while this replica holds the lease.
    pub async fn run(self, client: Client, leader: watch::Sender<bool>) {
        let api: Api<Lease> = Api::namespaced(client, &self.namespace);
        let mut last_renewal: Option<tokio::time::Instant> = None;
        let mut ticker = tokio::time::interval(self.retry);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let held = match self.round(&api).await {
                Ok(held) => {
                    if held {
                        last_renewal = Some(tokio::time::Instant::now());
                    }
                    held
                }
                Err(error) => {
                    tracing::warn!(lease = %self.lease, %error, "leader election round failed");
                    // Keep leading only while the last renewal is surely still valid (a
                    // margin of two rounds for clocks and latency).
                    last_renewal
                        .is_some_and(|at| at.elapsed() + 2 * self.retry < self.lease_duration)
                        && *leader.borrow()
                }
            };
            if *leader.borrow() != held {
                tracing::info!(identity = %self.identity, lease = %self.lease, leader = held, "leadership changed");
                leader.send_replace(held);
            }
        }
    }

    /// One round: whether this replica holds the lease after it.
    async fn round(&self, api: &Api<Lease>) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let Some(mut lease) = api.get_opt(&self.lease).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.lease.clone()),
                    namespace: Some(self.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.holding(now, now, 0)),
            };
            return match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
                Err(error) => Err(error),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.as_deref().unwrap_or_default();
        let transitions = spec.lease_transitions.unwrap_or(0);
        let spec = if holder == self.identity {
            let acquired = spec.acquire_time.map_or(now, |time| time.0);
            self.holding(acquired, now, transitions)
        } else {
            let duration =
                SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0)));
            let expired = holder.is_empty()
                || spec
                    .renew_time
                    .is_none_or(|renewed| renewed.0 + duration < now);
            if !expired {
                return Ok(false);
            }
            self.holding(now, now, transitions + 1)
        };
        lease.spec = Some(spec);
        // The resourceVersion read above makes this a compare-and-swap.
        match api
            .replace(&self.lease, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn holding(&self, acquired: Timestamp, renewed: Timestamp, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(
                i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX),
            ),
            acquire_time: Some(MicroTime(acquired)),
            renew_time: Some(MicroTime(renewed)),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Gives the lease up (on shutdown), so another replica takes over at once instead of
    /// after the lease expires.
    pub async fn release(&self, client: Client) -> Result<(), kube::Error> {
        let api: Api<Lease> = Api::namespaced(client, &self.namespace);
        let Some(mut lease) = api.get_opt(&self.lease).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        api.replace(&self.lease, &PostParams::default(), &lease)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubernetes::fake_api::FakeApi;

    fn election(identity: &str) -> Election {
        Election {
            lease_duration: Duration::from_millis(1500),
            retry: Duration::from_millis(100),
            ..Election::new("meshcd-system", "meshcd-leader", identity)
        }
    }

    async fn wait_for(receiver: &mut watch::Receiver<bool>, value: bool, within: Duration) -> bool {
        matches!(
            tokio::time::timeout(within, receiver.wait_for(|leader| *leader == value)).await,
            Ok(Ok(_))
        )
    }

    #[tokio::test]
    async fn one_of_two_replicas_leads_and_the_other_takes_over_within_the_lease_when_it_dies() {
        let api = FakeApi::new();
        let (a_sender, mut a) = watch::channel(false);
        let (b_sender, mut b) = watch::channel(false);
        let a_task = tokio::spawn(election("replica-a").run(api.client(), a_sender));
        assert!(
            wait_for(&mut a, true, Duration::from_secs(5)).await,
            "the first replica leads"
        );
        let b_task = tokio::spawn(election("replica-b").run(api.client(), b_sender));
        // Several rounds of B: it never leads while A renews.
        assert!(
            !wait_for(&mut b, true, Duration::from_millis(600)).await,
            "one leader at a time"
        );

        a_task.abort();
        let died = tokio::time::Instant::now();
        assert!(
            wait_for(&mut b, true, Duration::from_secs(5)).await,
            "the second replica takes over"
        );
        let handover = died.elapsed();
        assert!(
            handover <= Duration::from_millis(1500) + Duration::from_millis(500),
            "hand-over took {handover:?}, more than the lease (1.5 s) and a round"
        );
        let lease = api
            .get(
                "coordination.k8s.io/v1",
                "Lease",
                Some("meshcd-system"),
                "meshcd-leader",
            )
            .unwrap();
        assert_eq!(lease["spec"]["holderIdentity"], "replica-b");
        assert_eq!(lease["spec"]["leaseTransitions"], 1);
        b_task.abort();
    }

    #[tokio::test]
    async fn a_released_lease_is_taken_over_without_waiting_for_it_to_expire() {
        let api = FakeApi::new();
        let (a_sender, mut a) = watch::channel(false);
        let mut slow = election("replica-a");
        slow.lease_duration = Duration::from_secs(60);
        let a_task = tokio::spawn(slow.clone().run(api.client(), a_sender));
        assert!(wait_for(&mut a, true, Duration::from_secs(5)).await);
        a_task.abort();
        slow.release(api.client()).await.unwrap();

        let (b_sender, mut b) = watch::channel(false);
        let b_task = tokio::spawn(election("replica-b").run(api.client(), b_sender));
        assert!(
            wait_for(&mut b, true, Duration::from_secs(2)).await,
            "taken over long before 60 s"
        );
        b_task.abort();
    }
}
