//! A real gRPC echo service and client (tonic, protobuf with prost) for the end-to-end
//! tests, without generated code: the two messages are written out, and the test app serves
//! every method of every service with [`serve`], answering which app it is, which method it
//! was called as, and the metadata it received.

use std::collections::HashMap;
use std::future::Ready;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use http::uri::PathAndQuery;
use hyper::body::Incoming;
use tonic::transport::{Channel, Endpoint};
use tonic_prost::ProstCodec;

/// The method the tests call unless they name another.
pub const ECHO: &str = "/meshcd.test.Echo/Echo";

#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoRequest {
    #[prost(string, tag = "1")]
    pub message: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoReply {
    /// The app that answered.
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub message: String,
    /// The path it was called on: `/service/method`.
    #[prost(string, tag = "3")]
    pub method: String,
    /// The ASCII metadata (request headers) it received, names in lower case.
    #[prost(map = "string, string", tag = "4")]
    pub metadata: HashMap<String, String>,
}

/// Answers one gRPC call (any `/service/method`) as the app `name`.
pub async fn serve(
    name: Arc<str>,
    request: http::Request<Incoming>,
) -> http::Response<tonic::body::Body> {
    let method = request.uri().path().to_owned();
    let metadata = request
        .headers()
        .iter()
        .filter_map(|(key, value)| Some((key.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let unary = Unary {
        name,
        method,
        metadata,
    };
    tonic::server::Grpc::new(ProstCodec::default())
        .unary(unary, request)
        .await
}

struct Unary {
    name: Arc<str>,
    method: String,
    metadata: HashMap<String, String>,
}

impl tonic::server::UnaryService<EchoRequest> for Unary {
    type Response = EchoReply;
    type Future = Ready<Result<tonic::Response<EchoReply>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<EchoRequest>) -> Self::Future {
        let mut reply = tonic::Response::new(EchoReply {
            name: self.name.to_string(),
            message: request.into_inner().message,
            method: self.method.clone(),
            metadata: std::mem::take(&mut self.metadata),
        });
        // Echoed in the response metadata too, for response header filters to meet.
        reply.metadata_mut().insert(
            "x-echo-app",
            self.name
                .parse()
                .unwrap_or_else(|_| "app".parse().expect("ASCII")),
        );
        std::future::ready(Ok(reply))
    }
}

/// A gRPC client whose calls go through a proxy's outbound listener to `authority`
/// (`echo:7070`), on one HTTP/2 connection.
#[derive(Clone)]
pub struct GrpcClient {
    grpc: tonic::client::Grpc<Channel>,
}

impl GrpcClient {
    pub async fn connect(proxy: SocketAddr, authority: &str) -> anyhow::Result<Self> {
        let origin = format!("http://{authority}").parse().context("authority")?;
        let channel = Endpoint::from_shared(format!("http://{proxy}"))?
            .origin(origin)
            .connect()
            .await
            .with_context(|| format!("connect to the proxy at {proxy}"))?;
        Ok(Self {
            grpc: tonic::client::Grpc::new(channel),
        })
    }

    /// Calls `method` (`/service/method`) with `metadata`; the reply, its response
    /// metadata, or the call's status.
    pub async fn call(
        &mut self,
        method: &str,
        metadata: &[(&'static str, &'static str)],
    ) -> Result<(EchoReply, tonic::metadata::MetadataMap), tonic::Status> {
        let mut request = tonic::Request::new(EchoRequest {
            message: "hello".into(),
        });
        for (name, value) in metadata {
            request.metadata_mut().insert(
                *name,
                value
                    .parse()
                    .map_err(|_| tonic::Status::invalid_argument("metadata value"))?,
            );
        }
        let path = PathAndQuery::from_str(method)
            .map_err(|_| tonic::Status::invalid_argument("method path"))?;
        self.grpc
            .ready()
            .await
            .map_err(|error| tonic::Status::unavailable(error.to_string()))?;
        let response = self
            .grpc
            .unary(
                request,
                path,
                ProstCodec::<EchoRequest, EchoReply>::default(),
            )
            .await?;
        let metadata = response.metadata().clone();
        Ok((response.into_inner(), metadata))
    }
}
