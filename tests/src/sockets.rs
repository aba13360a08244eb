//! Counting TCP connections from the kernel's own table (`/proc/net/tcp`), so scenarios
//! can see how many upstream connections a proxy keeps without trusting its metrics.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use anyhow::Context;

/// `/proc/net/tcp` state code of an established connection.
const ESTABLISHED: &str = "01";

/// The peers of every established connection accepted on `listener` (an IPv4 address):
/// one entry per live connection to it.
pub fn established_peers(listener: SocketAddr) -> anyhow::Result<BTreeSet<SocketAddr>> {
    let table = std::fs::read_to_string("/proc/net/tcp").context("read /proc/net/tcp")?;
    parse_established_peers(&table, listener)
}

fn parse_established_peers(
    table: &str,
    listener: SocketAddr,
) -> anyhow::Result<BTreeSet<SocketAddr>> {
    let mut peers = BTreeSet::new();
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, local, remote, state, ..] = fields.as_slice() else {
            continue;
        };
        if *state != ESTABLISHED {
            continue;
        }
        if parse_address(local)? == listener {
            peers.insert(parse_address(remote)?);
        }
    }
    Ok(peers)
}

/// `0100007F:1F90` → 127.0.0.1:8080. The kernel prints the address as the native-endian
/// number whose bytes are in network order, and the port in plain hex.
fn parse_address(text: &str) -> anyhow::Result<SocketAddr> {
    let (address, port) = text
        .split_once(':')
        .with_context(|| format!("socket address {text:?}"))?;
    let address =
        u32::from_str_radix(address, 16).with_context(|| format!("address in {text:?}"))?;
    let port = u16::from_str_radix(port, 16).with_context(|| format!("port in {text:?}"))?;
    Ok(SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(address.to_ne_bytes()),
        port,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_peers_of_a_live_loopback_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_accepted, _) = listener.accept().unwrap();
        let peers = established_peers(listener.local_addr().unwrap()).unwrap();
        assert_eq!(peers, BTreeSet::from([client.local_addr().unwrap()]));
    }
}
