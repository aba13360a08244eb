//! An address range in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`, or one address),
//! parsed the same way by `meshcd validate` and by the proxy that matches against it
//! (IngressBackend sources, Egress `ipAddresses`): `ipnet`'s ranges, stricter in what
//! they accept.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// A range of addresses: the network's address and how many leading bits it fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr(IpNet);

/// Why a text is not a CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("{0:?} is not an IPv4 or IPv6 address")]
    Address(String),
    #[error("prefix length {prefix:?} is not a number from 0 to {max}")]
    Prefix { prefix: String, max: u8 },
    #[error("{text:?} has bits set past its /{prefix} prefix: the range is {network}")]
    HostBits {
        text: String,
        prefix: u8,
        network: String,
    },
}

impl Cidr {
    /// Whether `address` is in the range. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
    /// as a dual-stack socket reports an IPv4 peer) is matched as the IPv4 address it is.
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address.to_canonical())
    }

    /// The range of exactly one address.
    pub fn host(address: IpAddr) -> Self {
        Cidr(IpNet::from(address.to_canonical()))
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `address/prefix`, or a bare address (a range of one). Bits past the prefix must be
    /// zero: `10.1.2.3/8` is refused rather than read as `10.0.0.0/8`, as a typo there
    /// would open more than was meant.
    fn from_str(text: &str) -> Result<Self, CidrError> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| CidrError::Address(address.to_string()))?;
        let Some(prefix) = prefix else {
            return Ok(Cidr::host(network));
        };
        let max = if network.is_ipv4() { 32 } else { 128 };
        let bad_prefix = || CidrError::Prefix {
            prefix: prefix.to_string(),
            max,
        };
        let length = prefix
            .parse::<u8>()
            .ok()
            .filter(|_| !prefix.starts_with('+'))
            .ok_or_else(bad_prefix)?;
        let net = IpNet::new(network, length).map_err(|_| bad_prefix())?;
        if net.trunc() != net {
            return Err(CidrError::HostBits {
                text: text.to_string(),
                prefix: length,
                network: net.trunc().to_string(),
            });
        }
        Ok(Cidr(net))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(text: &str) -> Cidr {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_range_contains_the_addresses_under_its_prefix_and_no_other() {
        let range = cidr("127.0.0.0/30");
        assert!(range.contains(ip("127.0.0.1")));
        assert!(range.contains(ip("127.0.0.3")));
        assert!(!range.contains(ip("127.0.0.4")));
        assert!(!range.contains(ip("128.0.0.1")));
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
        assert!(!cidr("0.0.0.0/0").contains(ip("::1")));
        assert!(cidr("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!cidr("2001:db8::/32").contains(ip("2001:db9::5")));
    }

    #[test]
    fn a_bare_address_is_a_range_of_one() {
        let one = cidr("127.0.0.2");
        assert_eq!(one.to_string(), "127.0.0.2/32");
        assert!(one.contains(ip("127.0.0.2")));
        assert!(!one.contains(ip("127.0.0.3")));
        assert!(cidr("::1").contains(ip("::1")));
    }

    #[test]
    fn an_ipv4_mapped_peer_is_matched_as_ipv4() {
        assert!(cidr("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assert!(!cidr("10.0.0.0/8").contains(ip("::ffff:11.1.2.3")));
    }

    #[test]
    fn malformed_ranges_are_refused_with_what_is_wrong() {
        assert_eq!(
            "10.0.0/8".parse::<Cidr>(),
            Err(CidrError::Address("10.0.0".into()))
        );
        assert!(matches!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::Prefix { max: 32, .. })
        ));
        assert!(matches!(
            "10.0.0.0/".parse::<Cidr>(),
            Err(CidrError::Prefix { .. })
        ));
        assert_eq!(
            "10.1.2.3/8".parse::<Cidr>().unwrap_err().to_string(),
            "\"10.1.2.3/8\" has bits set past its /8 prefix: the range is 10.0.0.0/8"
        );
        assert!("2001:db8::1/32".parse::<Cidr>().is_err());
    }
}
