//! A cluster's replicas and its canaries: only the leader runs them; the others serve
//! the leader's weights; a new leader carries the rollout on from where it stood.

use std::time::Duration;

use super::*;
use crate::canary::progress::{ProgressStore, Saved};
use crate::kubernetes::fixtures::examples_config;

const NAMESPACE: &str = "osm-canary-deployment-sample-app";

async fn eventually(what: &str, check: impl AsyncFn() -> bool) {
    meshcd_testkit::eventually_holds(what, Duration::from_secs(10), check).await;
}

fn leaders_progress(config: &Config, weight: u32) -> Saved {
    let canary = &config.canaries[0].value;
    Saved {
        namespace: NAMESPACE.into(),
        name: "api".into(),
        spec_hash: spec_hash(canary),
        phase: Phase::Progressing,
        step: Some(2),
        canary_weight: weight,
        failures: 0,
        message: "stepped to 30%".into(),
        last_analysis_ms: 0,
        last_advance_ms: 0,
        saved_ms: 0,
    }
}

#[tokio::test]
async fn a_follower_runs_no_canary_serves_the_leaders_weights_and_resumes_them_when_it_leads() {
    let state = tempfile::tempdir().unwrap();
    let config = examples_config();
    let mesh = Arc::new(Mesh::default());
    mesh.apply("rev-1".into(), config.clone()).await;
    let (leading, leading_receiver) = watch::channel(false);
    let (followed, followed_receiver) = watch::channel(Vec::new());
    let metrics = crate::metrics::Metrics::new();
    let controller = CanaryController::new(
        mesh.clone(),
        Settings {
            writable: Err("a test".into()),
            progress: ProgressStore::empty(state.path()),
            metric_source: super::super::metrics_source::MetricSource::Proxies,
            observers: Observers {
                metrics: metrics.canary.clone(),
                webhook: None,
            },
            hold_new: false,
            leadership: Some(Leadership {
                leading: leading_receiver,
                followed: followed_receiver,
            }),
        },
    );
    let task = tokio::spawn(controller.clone().run());
    let split = (
        NAMESPACE.to_string(),
        crate::model::CanaryTarget::TrafficSplit("api".to_string()),
    );

    followed.send_replace(vec![leaders_progress(&config, 30)]);
    eventually("the follower serves the leader's 30%", async || {
        mesh.canary_weights().await.get(&split)
            == Some(&BTreeMap::from([
                ("api-v1".into(), 70),
                ("api-v2".into(), 30),
            ]))
    })
    .await;
    assert!(
        controller.rollouts().await.is_empty(),
        "a follower runs no rollout"
    );
    let refused = controller
        .command(NAMESPACE, "api", Command::Promote)
        .await
        .unwrap_err();
    assert!(refused.contains("not the leader"), "{refused}");

    // The leader is gone: this replica resumes at the step the status holds.
    controller.seed_progress(vec![leaders_progress(&config, 30)]);
    leading.send_replace(true);
    eventually("the new leader resumes the rollout at 30%", async || {
        controller
            .rollouts()
            .await
            .iter()
            .any(|r| r.canary_weight == 30 && r.message.contains("resumed at 30%"))
    })
    .await;
    assert_eq!(
        mesh.canary_weights().await.get(&split),
        Some(&BTreeMap::from([
            ("api-v1".into(), 70),
            ("api-v2".into(), 30)
        ]))
    );

    // Leadership lost: the rollout is left to the other replica.
    leading.send_replace(false);
    eventually("the former leader drops its rollouts", async || {
        controller.rollouts().await.is_empty()
    })
    .await;
    task.abort();
}
