//! The Gateway API's Mesh conformance tests (v1.6.1, `conformance/tests/mesh/`), one test
//! here per upstream test, named after it: the same manifests, the same requests and the
//! same expectations, run against real proxies and apps in local mode (see
//! `meshcd_e2e::gamma` for the setting). Where upstream leaves something unchecked (a
//! redirect's Location, the path a backend saw) these tests check it too.

use std::time::Duration;

use meshcd_e2e::eventually;
use meshcd_e2e::gamma::{Case, ConformanceMesh, GRPC_PORT};
use meshcd_e2e::grpc_echo::ECHO;

/// MeshBasic: a call to a Service both workloads serve is answered.
#[tokio::test]
async fn mesh_basic() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&[]).await?;
    mesh.expect(&Case::answered("/", 200)).await
}

/// MeshFrontend: a route applies to calls addressed to its Service, not to calls
/// addressed to a workload's own address (upstream: the pod IP; here the app's address,
/// which is what a local workload has), which reach that workload as they are.
#[tokio::test]
async fn mesh_frontend() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["mesh-frontend.yaml"]).await?;
    mesh.expect(&Case {
        host: "echo-v2",
        backend: "echo-v2",
        response_headers: vec![("x-header-set", "set")],
        ..Case::default()
    })
    .await?;
    let pod = mesh.app_address("echo-v2").expect("echo-v2 runs");
    mesh.expect(&Case {
        host: Box::leak(pod.to_string().into_boxed_str()),
        backend: "echo-v2",
        response_absent: vec!["x-header-set"],
        ..Case::default()
    })
    .await
}

/// MeshFrontendHostname: the parent is the Service the call is addressed to, whatever its
/// Host says (in explicit-proxy mode the absolute-form request's authority is the
/// address, as the ClusterIP is for an intercepted connection).
#[tokio::test]
async fn mesh_frontend_hostname() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["mesh-frontend.yaml"]).await?;
    mesh.expect_all(&[
        Case {
            host: "echo-v2",
            backend: "echo-v2",
            response_headers: vec![("x-header-set", "set")],
            ..Case::default()
        }
        .with_header("host", "echo-v1"),
        Case {
            host: "echo-v1",
            backend: "echo-v1",
            response_absent: vec!["x-header-set"],
            ..Case::default()
        }
        .with_header("host", "echo-v2"),
    ])
    .await
}

/// MeshPorts: a route bound to one port of its Service leaves the other ports alone; one
/// bound without a port applies to every port.
#[tokio::test]
async fn mesh_ports() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["mesh-ports.yaml"]).await?;
    mesh.expect_all(&[
        Case {
            host: "echo-v1",
            backend: "echo-v1",
            response_headers: vec![("x-header-set", "v1")],
            ..Case::default()
        },
        Case {
            host: "echo-v1:8080",
            backend: "echo-v1",
            response_absent: vec!["x-header-set"],
            ..Case::default()
        },
        Case {
            host: "echo-v2",
            backend: "echo-v2",
            response_headers: vec![("x-header-set", "v2")],
            ..Case::default()
        },
        Case {
            host: "echo-v2:8080",
            backend: "echo-v2",
            response_headers: vec![("x-header-set", "v2")],
            ..Case::default()
        },
    ])
    .await
}

/// MeshConsumerRoute: a route in the client's namespace applies to that namespace's
/// clients only; the Service's own namespace is unaffected.
#[tokio::test]
async fn mesh_consumer_route() -> anyhow::Result<()> {
    let mut mesh = ConformanceMesh::start(&["mesh-consumer-route.yaml"]).await?;
    let consumer = mesh.consumer_client().await?;
    let to_echo_v1 = |response_headers, response_absent| Case {
        host: "echo-v1.gateway-conformance-mesh",
        backend: "echo-v1",
        response_headers,
        response_absent,
        ..Case::default()
    };
    mesh.expect_from(
        &consumer,
        &to_echo_v1(vec![("x-header-set", "set")], vec![]),
    )
    .await?;
    mesh.expect(&to_echo_v1(vec![], vec!["x-header-set"])).await
}

/// MeshTrafficSplit: exact paths pick the backend; with a route attached, a request no
/// rule matches gets 404 (implied upstream, checked here).
#[tokio::test]
async fn mesh_traffic_split() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["mesh-split.yaml"]).await?;
    mesh.expect_all(&[
        Case::reaches("/v1", "echo-v1"),
        Case::reaches("/v2", "echo-v2"),
        Case::answered("/", 404),
        Case::answered("/v1/more", 404),
    ])
    .await
}

/// MeshHTTPRouteSimpleSameNamespace: every call to `echo` (both workloads) goes to echo-v1.
#[tokio::test]
async fn mesh_httproute_simple_same_namespace() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-simple-same-namespace.yaml"]).await?;
    mesh.expect(&Case::reaches("/", "echo-v1")).await?;
    let shares = mesh.shares("/", 100).await?;
    assert_eq!(shares.get("echo-v1"), Some(&1.0), "{shares:?}");
    Ok(())
}

/// MeshHTTPRouteMatching: the longer prefix, then more header matches, win; prefixes
/// match whole segments; header names are case-insensitive.
#[tokio::test]
async fn mesh_httproute_matching() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-matching.yaml"]).await?;
    mesh.expect_all(&[
        Case::reaches("/", "echo-v1"),
        Case::reaches("/example", "echo-v1"),
        Case::reaches("/", "echo-v1").with_header("Version", "one"),
        Case::reaches("/v2", "echo-v2"),
        Case::reaches("/v2/example", "echo-v2"),
        Case::reaches("/", "echo-v2").with_header("version", "two"),
        Case::reaches("/v2/", "echo-v2"),
        Case::reaches("/v2example", "echo-v1"),
        Case::reaches("/foo/v2/example", "echo-v1"),
    ])
    .await
}

/// MeshHTTPRouteQueryParamMatching: exact query values, ANDed within a match, with the
/// path's and the headers' precedence before them; no catch-all rule, so 404 elsewhere.
#[tokio::test]
async fn mesh_httproute_query_param_matching() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-query-param-matching.yaml"]).await?;
    mesh.expect_all(&[
        Case::reaches("/?animal=whale", "echo-v1"),
        Case::reaches("/?animal=dolphin", "echo-v2"),
        Case::reaches("/?animal=whale&otherparam=irrelevant", "echo-v1"),
        Case::reaches("/?animal=dolphin&color=yellow", "echo-v2"),
        Case::answered("/?color=blue", 404),
        Case::answered("/?animal=dog", 404),
        Case::answered("/?animal=whaledolphin", 404),
        Case::answered("/", 404),
        Case::reaches("/path1?animal=whale", "echo-v1"),
        Case::reaches("/?animal=whale", "echo-v2").with_header("version", "one"),
        Case::reaches("/path3?animal=shark", "echo-v1"),
        Case::reaches("/path4?animal=kraken", "echo-v1").with_header("version", "three"),
        Case::answered("/?animal=shark", 404),
        Case::answered("/path4?animal=kraken", 404),
        Case::reaches("/path5?animal=hydra", "echo-v1"),
    ])
    .await
}

/// MeshHTTPRouteNamedRule: named and unnamed rules both route.
#[tokio::test]
async fn mesh_httproute_named_rule() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-named-rule.yaml"]).await?;
    mesh.expect_all(&[
        Case {
            backend_path: "/named",
            ..Case::reaches("/named", "echo-v1")
        },
        Case {
            backend_path: "/unnamed",
            ..Case::reaches("/unnamed", "echo-v2")
        },
    ])
    .await
}

/// The seven cases both header modifier tests share: the filter on the rule or on its
/// backendRef does the same.
fn header_modifier_cases() -> Vec<Case> {
    let to_v1 = |path| Case::reaches(path, "echo-v1");
    vec![
        Case {
            backend_headers: vec![
                ("some-other-header", "val"),
                ("x-header-set", "set-overwrites-values"),
            ],
            ..to_v1("/set").with_header("some-other-header", "val")
        },
        Case {
            backend_headers: vec![
                ("some-other-header", "val"),
                ("x-header-set", "set-overwrites-values"),
            ],
            ..to_v1("/set")
                .with_header("some-other-header", "val")
                .with_header("x-header-set", "some-other-value")
        },
        Case {
            backend_headers: vec![
                ("some-other-header", "val"),
                ("x-header-add", "add-appends-values"),
            ],
            ..to_v1("/add").with_header("some-other-header", "val")
        },
        Case {
            backend_headers: vec![
                ("some-other-header", "val"),
                ("x-header-add", "some-other-value, add-appends-values"),
            ],
            ..to_v1("/add")
                .with_header("some-other-header", "val")
                .with_header("x-header-add", "some-other-value")
        },
        Case {
            backend_absent: vec!["x-header-remove"],
            ..to_v1("/remove").with_header("x-header-remove", "val")
        },
        Case {
            backend_headers: vec![
                ("x-header-set-1", "header-set-1"),
                ("x-header-set-2", "header-set-2"),
                ("x-header-add-1", "header-add-1"),
                ("x-header-add-2", "add-val-2, header-add-2"),
                ("x-header-add-3", "header-add-3"),
                ("another-header", "another-header-val"),
            ],
            backend_absent: vec!["x-header-remove-1", "x-header-remove-2"],
            ..to_v1("/multiple")
                .with_header("x-header-set-2", "set-val-2")
                .with_header("x-header-add-2", "add-val-2")
                .with_header("x-header-remove-2", "remove-val-2")
                .with_header("another-header", "another-header-val")
        },
        Case {
            backend_headers: vec![
                ("x-header-set", "header-set"),
                ("x-header-add", "original-val-add, header-add"),
                ("another-header", "another-header-val"),
            ],
            backend_absent: vec!["x-header-remove"],
            ..to_v1("/case-insensitivity")
                .with_header("x-header-set", "original-val-set")
                .with_header("x-header-add", "original-val-add")
                .with_header("x-header-remove", "original-val-remove")
                .with_header("another-header", "another-header-val")
        },
    ]
}

/// MeshHTTPRouteRequestHeaderModifier: set, add and remove on the rule.
#[tokio::test]
async fn mesh_httproute_request_header_modifier() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-request-header-modifier.yaml"]).await?;
    mesh.expect_all(&header_modifier_cases()).await
}

/// MeshHTTPRouteBackendRequestHeaderModifier: the same filters on the backendRef.
#[tokio::test]
async fn mesh_httproute_backend_request_header_modifier() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-request-header-modifier-backend.yaml"]).await?;
    mesh.expect_all(&header_modifier_cases()).await
}

/// MeshHTTPRouteRewritePath: ReplacePrefixMatch and ReplaceFullPath, alone and with a
/// header modifier.
#[tokio::test]
async fn mesh_httproute_rewrite_path() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-rewrite-path.yaml"]).await?;
    let rewritten = |path, backend_path| Case {
        backend_path,
        ..Case::reaches(path, "echo-v1")
    };
    let with_headers = |case: Case| Case {
        backend_headers: vec![
            ("x-header-add", "header-val-1"),
            ("x-header-add-append", "append-val-1, header-val-2"),
            ("x-header-set", "set-overwrites-values"),
        ],
        backend_absent: vec!["x-header-remove"],
        ..case
            .with_header("x-header-remove", "remove-val")
            .with_header("x-header-add-append", "append-val-1")
            .with_header("x-header-set", "set-val")
    };
    mesh.expect_all(&[
        rewritten("/prefix/one/two", "/one/two"),
        rewritten("/strip-prefix/three", "/three"),
        rewritten("/strip-prefix", "/"),
        rewritten("/full/one/two", "/one"),
        with_headers(rewritten(
            "/full/rewrite-path-and-modify-headers/test",
            "/test",
        )),
        with_headers(rewritten(
            "/prefix/rewrite-path-and-modify-headers/one",
            "/prefix/one",
        )),
    ])
    .await
}

/// A redirect the proxy answers: `status` and `location`, no app involved.
fn redirect(path: &'static str, status: u16, location: &'static str) -> Case {
    Case {
        location,
        ..Case::answered(path, status)
    }
}

/// MeshHTTPRouteRedirectHostAndStatus.
#[tokio::test]
async fn mesh_httproute_redirect_host_and_status() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-redirect-host-and-status.yaml"]).await?;
    mesh.expect_all(&[
        redirect(
            "/hostname-redirect",
            302,
            "http://example.org/hostname-redirect",
        ),
        redirect(
            "/host-and-status",
            301,
            "http://example.org/host-and-status",
        ),
    ])
    .await
}

/// MeshHTTPRouteRedirectPath.
#[tokio::test]
async fn mesh_httproute_redirect_path() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-redirect-path.yaml"]).await?;
    mesh.expect_all(&[
        redirect(
            "/original-prefix/lemon",
            302,
            "http://echo/replacement-prefix/lemon",
        ),
        redirect(
            "/full/path/original",
            302,
            "http://echo/full-path-replacement",
        ),
        redirect(
            "/path-and-host",
            302,
            "http://example.org/replacement-prefix",
        ),
        redirect("/path-and-status", 301, "http://echo/replacement-prefix"),
        redirect(
            "/full-path-and-host",
            302,
            "http://example.org/replacement-full",
        ),
        redirect("/full-path-and-status", 301, "http://echo/replacement-full"),
    ])
    .await
}

/// MeshHTTPRouteRedirectPort.
#[tokio::test]
async fn mesh_httproute_redirect_port() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-redirect-port.yaml"]).await?;
    mesh.expect_all(&[
        redirect("/port", 302, "http://echo:8083/port"),
        redirect(
            "/port-and-host",
            302,
            "http://example.org:8083/port-and-host",
        ),
        redirect("/port-and-status", 301, "http://echo:8083/port-and-status"),
        redirect(
            "/port-and-host-and-status",
            302,
            "http://example.org:8083/port-and-host-and-status",
        ),
    ])
    .await
}

/// MeshHTTPRouteSchemeRedirect: https without a port leaves the port out.
#[tokio::test]
async fn mesh_httproute_scheme_redirect() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-redirect-scheme.yaml"]).await?;
    mesh.expect_all(&[
        redirect("/scheme", 302, "https://echo/scheme"),
        redirect(
            "/scheme-and-host",
            302,
            "https://example.org/scheme-and-host",
        ),
        redirect("/scheme-and-status", 301, "https://echo/scheme-and-status"),
        redirect(
            "/scheme-and-host-and-status",
            302,
            "https://example.org/scheme-and-host-and-status",
        ),
    ])
    .await
}

/// MeshHTTPRoute303Redirect.
#[tokio::test]
async fn mesh_httproute_303_redirect() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-303-redirect.yaml"]).await?;
    mesh.expect(&redirect("/redirect", 303, "http://echo/redirect"))
        .await
}

/// MeshHTTPRoute307Redirect.
#[tokio::test]
async fn mesh_httproute_307_redirect() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-307-redirect.yaml"]).await?;
    mesh.expect(&redirect("/temporary", 307, "http://echo/temporary"))
        .await
}

/// MeshHTTPRoute308Redirect.
#[tokio::test]
async fn mesh_httproute_308_redirect() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-308-redirect.yaml"]).await?;
    mesh.expect(&redirect("/permanent", 308, "http://echo/permanent"))
        .await
}

/// MeshHTTPRouteWeight: 70/30 over 1,000 requests, each share within upstream's ±0.05.
#[tokio::test]
async fn mesh_httproute_weight() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["httproute-weight.yaml"]).await?;
    mesh.expect(&Case::answered("/", 200)).await?;
    let shares = mesh.shares("/", 1000).await?;
    assert_eq!(shares.len(), 2, "{shares:?}");
    for (backend, expected) in [("echo-v1", 0.7), ("echo-v2", 0.3)] {
        let share = shares.get(backend).copied().unwrap_or_default();
        assert!(
            (share - expected).abs() <= 0.05,
            "{backend}: {share}, want {expected} ± 0.05 ({shares:?})"
        );
    }
    Ok(())
}

/// MeshGRPCRouteWeight: gRPC calls (a real tonic client and server) shared 70/30 over
/// 1,000 calls, each share within upstream's ±0.05; the weight-0 backend (a Service
/// nothing serves) gets none.
#[tokio::test]
async fn mesh_grpc_route_weight() -> anyhow::Result<()> {
    let mesh = ConformanceMesh::start(&["grpcroute-weight.yaml"]).await?;
    let mut client = mesh.grpc_client(&format!("echo:{GRPC_PORT}")).await?;
    eventually(Duration::from_secs(30), || {
        let mut client = client.clone();
        async move {
            client.call(ECHO, &[]).await?;
            anyhow::Ok(())
        }
    })
    .await?;
    let mut counts = std::collections::BTreeMap::<String, u32>::new();
    for _ in 0..1000 {
        let (reply, _) = client.call(ECHO, &[]).await?;
        *counts.entry(reply.name).or_default() += 1;
    }
    assert_eq!(counts.len(), 2, "{counts:?}");
    for (backend, expected) in [("echo-v1", 0.7), ("echo-v2", 0.3)] {
        let share = f64::from(counts.get(backend).copied().unwrap_or_default()) / 1000.0;
        assert!(
            (share - expected).abs() <= 0.05,
            "{backend}: {share}, want {expected} ± 0.05 ({counts:?})"
        );
    }
    Ok(())
}
