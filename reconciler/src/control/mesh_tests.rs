//! The mesh compiles once per revision and per change of the inventory, not per
//! connection.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::mesh::Mesh;
use crate::inventory::Workload;
use crate::model::{Config, Identity};

fn workload(id: &str, service: &str) -> Workload {
    Workload {
        id: id.into(),
        identity: Identity {
            namespace: "shop".into(),
            service_account: service.into(),
        },
        services: vec![service.into()],
        ports: Vec::new(),
        inbound_address: format!("127.0.0.1:{}", 15000 + id.len()),
    }
}

async fn connect(mesh: &Arc<Mesh>, workload: Workload) -> mpsc::Receiver<impl Sized> {
    let (sender, receiver) = mpsc::channel(8);
    mesh.connect(workload.id.clone(), workload, None, sender)
        .await
        .expect("registered");
    receiver
}

#[tokio::test]
async fn a_proxy_that_reconnects_with_its_workload_reuses_the_compilation() {
    let mesh = Arc::new(Mesh::default());
    mesh.apply("r1".into(), Config::default()).await;
    let _api = connect(&mesh, workload("api-1", "api")).await;
    let first = mesh.compilation().await.expect("compiled");

    let _again = connect(&mesh, workload("api-1", "api")).await;
    let after_reconnect = mesh.compilation().await.expect("compiled");
    assert!(
        Arc::ptr_eq(&first, &after_reconnect),
        "a reconnect with the same workload recompiled the mesh"
    );

    let _web = connect(&mesh, workload("web-1", "web")).await;
    let after_join = mesh.compilation().await.expect("compiled");
    assert!(
        !Arc::ptr_eq(&first, &after_join),
        "a new workload must be compiled in"
    );

    mesh.apply("r2".into(), Config::default()).await;
    let after_revision = mesh.compilation().await.expect("compiled");
    assert!(!Arc::ptr_eq(&after_join, &after_revision));
}
