//! GRPCRoute end to end beyond the Mesh profile's one test: a real tonic client calling
//! real tonic servers through the proxies, routed by service and method (exact, service
//! alone, method alone with a header, regular expressions) in GRPCRoute's precedence, with
//! header filters on the call's metadata both ways, and a call no rule matches answered
//! UNIMPLEMENTED the gRPC way.

use std::time::Duration;

use meshcd_e2e::eventually;
use meshcd_e2e::gamma::{ConformanceMesh, GRPC_PORT};
use meshcd_e2e::grpc_echo::{ECHO, GrpcClient};

const ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: echo-grpc
  namespace: gateway-conformance-mesh
spec:
  parentRefs:
  - {group: '', kind: Service, name: echo, port: 7070}
  rules:
  - name: exact
    matches: [{method: {service: meshcd.test.Echo, method: Echo}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-route, value: exact}]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-routed, value: exact}]}
    backendRefs: [{name: echo-v1, port: 7070}]
  - name: service
    matches: [{method: {service: meshcd.test.Echo}}]
    backendRefs: [{name: echo-v2, port: 7070}]
  - name: gold
    matches: [{method: {method: Probe}, headers: [{name: x-tier, value: gold}]}]
    backendRefs: [{name: echo-v1, port: 7070}]
  - name: regex
    matches:
    - method: {type: RegularExpression, service: 'meshcd\\.test\\.Ad.*', method: 'Get.*'}
    backendRefs: [{name: echo-v2, port: 7070}]
";

/// The app that answered `method` called with `metadata`, or the call's status code.
async fn answered(
    client: &mut GrpcClient,
    method: &str,
    metadata: &[(&'static str, &'static str)],
) -> Result<String, tonic::Code> {
    client
        .call(method, metadata)
        .await
        .map(|(reply, _)| reply.name)
        .map_err(|status| status.code())
}

#[tokio::test]
async fn grpc_calls_are_routed_by_service_method_and_metadata() -> anyhow::Result<()> {
    let route = ("grpc-route.yaml".to_owned(), ROUTE.to_owned());
    let mesh = ConformanceMesh::start_with(vec![route], &[]).await?;
    let mut client = mesh.grpc_client(&format!("echo:{GRPC_PORT}")).await?;
    eventually(Duration::from_secs(30), || {
        let mut client = client.clone();
        async move {
            let (reply, _) = client.call(ECHO, &[]).await?;
            anyhow::ensure!(reply.name == "echo-v1", "{reply:?}");
            Ok(())
        }
    })
    .await?;

    // Service and method beat the service alone, whose rule takes the service's other
    // methods.
    let (reply, metadata) = client.call(ECHO, &[]).await?;
    assert_eq!(reply.method, ECHO);
    assert_eq!(
        reply.metadata.get("x-route").map(String::as_str),
        Some("exact")
    );
    assert_eq!(
        metadata.get("x-routed").and_then(|v| v.to_str().ok()),
        Some("exact")
    );
    assert_eq!(
        answered(&mut client, "/meshcd.test.Echo/Other", &[]).await,
        Ok("echo-v2".into())
    );
    // A method of any service, with a header.
    assert_eq!(
        answered(&mut client, "/shop.Health/Probe", &[("x-tier", "gold")]).await,
        Ok("echo-v1".into())
    );
    assert_eq!(
        answered(&mut client, "/shop.Health/Probe", &[]).await,
        Err(tonic::Code::Unimplemented)
    );
    // Regular expressions over service and method.
    assert_eq!(
        answered(&mut client, "/meshcd.test.Admin/GetUser", &[]).await,
        Ok("echo-v2".into())
    );
    assert_eq!(
        answered(&mut client, "/meshcd.test.Admin/SetUser", &[]).await,
        Err(tonic::Code::Unimplemented)
    );
    // No rule: UNIMPLEMENTED, with the proxy's reason.
    let status = client
        .call("/unknown.Service/Call", &[])
        .await
        .expect_err("no rule matches");
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    assert!(status.message().contains("no rule"), "{status:?}");
    Ok(())
}
