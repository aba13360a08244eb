//! `meshcd demo-app`: the small HTTP service the walkthrough runs behind each proxy. It
//! answers every request with its own name, so a client can see who served it.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The name it answers with (e.g. api-v1).
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// The HTTP status of every answer (500 plays a broken release).
    #[arg(long, default_value_t = 200)]
    pub status: u16,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    sayln!(
        "{}",
        serde_json::json!({"event": "listening", "address": listener.local_addr()?.to_string()})
    );
    let name: &'static str = Box::leak(args.name.into_boxed_str());
    let status = hyper::StatusCode::from_u16(args.status)?;
    // Like the reconciler's listeners: capped, and pausing when accepting fails rather
    // than exiting. The demo app serves no metrics, so the refusal count is only logged.
    let mut acceptor = crate::accept::Acceptor::new(
        listener,
        "demo-app",
        crate::accept::DEFAULT_MAX_CONNECTIONS,
        crate::accept::ListenerMetrics::default(),
    );
    loop {
        let stream = acceptor.accept().await;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(
                move |request: Request<hyper::body::Incoming>| async move {
                    let body = serde_json::json!({
                        "app": name,
                        "method": request.method().as_str(),
                        "path": request.uri().path(),
                    });
                    let mut response = Response::new(Full::new(Bytes::from(format!("{body}\n"))));
                    *response.status_mut() = status;
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                },
            );
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
