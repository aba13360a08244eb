//! Names outside the mesh, resolved by the proxy itself: hickory's stub resolver with the
//! system's configuration (`/etc/resolv.conf`, `/etc/hosts`), its cache, and timeouts,
//! so that an egress call never waits on a blocking `getaddrinfo` thread.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hyper_util::client::legacy::connect::dns::Name;

/// Each query's wait for an answer, and how often it is asked (per name server).
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
const ATTEMPTS: usize = 2;
/// Names whose answers are kept (for their TTL).
const CACHE_SIZE: u64 = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("resolving {host:?}")]
    Lookup {
        host: String,
        #[source]
        source: hickory_resolver::net::NetError,
    },
    #[error("building the DNS resolver")]
    Build(#[source] hickory_resolver::net::NetError),
}

/// A cheap handle (clones share the cache).
#[derive(Clone)]
pub struct Resolver(Arc<TokioResolver>);

impl Resolver {
    /// The system's resolver; without a readable `/etc/resolv.conf`, `/etc/hosts` alone.
    pub fn from_system() -> Result<Self, ResolveError> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = match TokioResolver::builder_tokio() {
            Ok(builder) => builder,
            Err(error) => {
                tracing::warn!(error = %meshcd_support::error_chain(&error), "no system DNS configuration: names outside the mesh resolve from /etc/hosts only");
                TokioResolver::builder_with_config(ResolverConfig::default(), provider)
            }
        };
        let options: &mut ResolverOpts = builder.options_mut();
        options.timeout = QUERY_TIMEOUT;
        options.attempts = ATTEMPTS;
        options.cache_size = CACHE_SIZE;
        let resolver = builder.build().map_err(ResolveError::Build)?;
        Ok(Resolver(Arc::new(resolver)))
    }

    /// The addresses of `host` (an IP address is its own).
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse() {
            return Ok(vec![ip]);
        }
        let found = self
            .0
            .lookup_ip(host)
            .await
            .map_err(|source| ResolveError::Lookup {
                host: host.to_owned(),
                source,
            })?;
        Ok(found.iter().collect())
    }
}

/// hyper-util's `HttpConnector` asks this for the addresses of the names it connects to.
impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = ResolveError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, ResolveError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let resolver = self.clone();
        Box::pin(async move {
            let addresses = resolver.resolve(name.as_str()).await?;
            // The connector sets the port.
            let sockets: Vec<SocketAddr> = addresses
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            Ok(sockets.into_iter())
        })
    }
}
