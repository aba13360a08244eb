//! Protocol upgrades (WebSocket and friends) passed through end to end: the HTTP/1.1
//! handshake is forwarded on a dedicated connection and, once both sides agree on
//! `101 Switching Protocols`, the two upgraded streams are spliced together.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

#[derive(Debug, thiserror::Error)]
#[error("upgrade handshake")]
pub struct UpgradeError(#[from] hyper::Error);

/// Sends `request` (an upgrade) over `io` and, on 101, splices the client's upgraded
/// connection to the server's. The response goes back to the client as it came. `hold`
/// (a listener's connection slot) is kept until the spliced streams end.
pub async fn forward<IO, H>(
    io: IO,
    mut request: Request<Incoming>,
    hold: H,
) -> Result<Response<Incoming>, UpgradeError>
where
    IO: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    H: Send + 'static,
{
    let client_side = hyper::upgrade::on(&mut request);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(error = %meshcd_support::error_chain(&error), "upgrade connection ended");
        }
    });
    let mut response = sender.send_request(request).await?;
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let server_side = hyper::upgrade::on(&mut response);
        tokio::spawn(async move {
            match tokio::try_join!(client_side, server_side) {
                Ok((client, server)) => {
                    let mut client = TokioIo::new(client);
                    let mut server = TokioIo::new(server);
                    if let Err(error) =
                        tokio::io::copy_bidirectional(&mut client, &mut server).await
                    {
                        tracing::debug!(error = %meshcd_support::error_chain(&error), "upgraded stream ended");
                    }
                }
                Err(error) => {
                    tracing::debug!(error = %meshcd_support::error_chain(&error), "upgrade did not complete")
                }
            }
            drop(hold);
        });
    }
    Ok(response)
}
