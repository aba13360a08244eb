//! Checks an ssh server's host key against a known_hosts file, as OpenSSH does: plain,
//! wildcard, negated, `[host]:port` and hashed (`|1|`) names; `@revoked` keys refused.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac as _};
use ssh_key::known_hosts::{Entry, HostPatterns, Marker};

#[derive(Debug, thiserror::Error)]
pub enum KnownHostsError {
    #[error("reading known_hosts {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("known_hosts {path} has no usable entry")]
    Empty { path: PathBuf },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostKeyError {
    #[error("host key verification failed: {name} is not in known_hosts {path}")]
    Unknown { name: String, path: PathBuf },
    #[error(
        "host key verification failed: the key of {name} does not match known_hosts {path} (possible man-in-the-middle)"
    )]
    Mismatch { name: String, path: PathBuf },
    #[error("host key verification failed: the key of {name} is revoked in known_hosts {path}")]
    Revoked { name: String, path: PathBuf },
}

#[derive(Debug, Clone)]
struct Known {
    patterns: HostPatterns,
    marker: Option<Marker>,
    /// The key in SSH wire format, as the server presents it.
    key: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct KnownHosts {
    path: PathBuf,
    entries: Vec<Known>,
}

impl KnownHosts {
    /// Reads the file; lines it cannot parse (unknown key types) are skipped, as ssh does.
    pub fn read(path: &Path) -> Result<Self, KnownHostsError> {
        let text = std::fs::read_to_string(path).map_err(|source| KnownHostsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let entries: Vec<Known> = ssh_key::known_hosts::KnownHosts::new(&text)
            .filter_map(Result::ok)
            .filter_map(|entry: Entry| {
                Some(Known {
                    patterns: entry.host_patterns().clone(),
                    marker: entry.marker().cloned(),
                    key: entry.public_key().to_bytes().ok()?,
                })
            })
            .collect();
        if entries.is_empty() {
            return Err(KnownHostsError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(KnownHosts {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Accepts `key` for `host`:`port` only when an entry for that name lists it.
    pub fn check(&self, host: &str, port: u16, key: &[u8]) -> Result<(), HostKeyError> {
        let name = if port == 22 {
            host.to_ascii_lowercase()
        } else {
            format!("[{}]:{port}", host.to_ascii_lowercase())
        };
        let matching: Vec<&Known> = self
            .entries
            .iter()
            .filter(|entry| names_match(&entry.patterns, &name))
            .collect();
        let path = self.path.clone();
        if matching
            .iter()
            .any(|entry| entry.marker == Some(Marker::Revoked) && entry.key == key)
        {
            return Err(HostKeyError::Revoked { name, path });
        }
        let plain: Vec<&&Known> = matching.iter().filter(|e| e.marker.is_none()).collect();
        if plain.iter().any(|entry| entry.key == key) {
            return Ok(());
        }
        if plain.is_empty() {
            Err(HostKeyError::Unknown { name, path })
        } else {
            Err(HostKeyError::Mismatch { name, path })
        }
    }
}

fn names_match(patterns: &HostPatterns, name: &str) -> bool {
    match patterns {
        HostPatterns::HashedName { salt, hash } => {
            let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            mac.verify_slice(hash).is_ok()
        }
        HostPatterns::Patterns(patterns) => {
            let mut matched = false;
            for pattern in patterns {
                let pattern = pattern.to_ascii_lowercase();
                match pattern.strip_prefix('!') {
                    // A negated match excludes the line whatever else matches.
                    Some(negated) if glob(negated, name) => return false,
                    Some(_) => {}
                    None => matched |= glob(&pattern, name),
                }
            }
            matched
        }
    }
}

/// `*` any run of characters, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            backtrack = Some((p, t));
            p += 1;
        } else if let Some((star, position)) = backtrack {
            p = star + 1;
            t = position + 1;
            backtrack = Some((star, position + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO3JjUaARjb6s0d5V6GNlH0z+ZXR+JTKxCQcDsl3p6dw";
    const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAkkf7erC1LwL1z635J9ORV13ECsinpBgmQihjVAW1na";

    fn wire(key: &str) -> Vec<u8> {
        ssh_key::PublicKey::from_openssh(key)
            .unwrap()
            .to_bytes()
            .unwrap()
    }

    fn known(text: &str) -> KnownHosts {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, text).unwrap();
        KnownHosts::read(&path).unwrap()
    }

    #[test]
    fn a_listed_key_is_accepted_for_its_host_and_port() {
        let hosts = known(&format!("[127.0.0.1]:2222 {KEY_A}\n"));
        assert_eq!(hosts.check("127.0.0.1", 2222, &wire(KEY_A)), Ok(()));
        assert!(matches!(
            hosts.check("127.0.0.1", 22, &wire(KEY_A)),
            Err(HostKeyError::Unknown { .. })
        ));
    }

    #[test]
    fn another_key_for_a_known_host_is_a_mismatch() {
        let hosts = known(&format!("git.example.com {KEY_A}\n"));
        assert!(matches!(
            hosts.check("git.example.com", 22, &wire(KEY_B)),
            Err(HostKeyError::Mismatch { .. })
        ));
    }

    #[test]
    fn wildcards_negations_and_revocations_apply() {
        let hosts = known(&format!(
            "*.example.com,!evil.example.com {KEY_A}\n@revoked * {KEY_B}\n"
        ));
        assert_eq!(hosts.check("git.example.com", 22, &wire(KEY_A)), Ok(()));
        assert!(hosts.check("evil.example.com", 22, &wire(KEY_A)).is_err());
        assert!(matches!(
            hosts.check("git.example.com", 22, &wire(KEY_B)),
            Err(HostKeyError::Revoked { .. })
        ));
    }

    #[test]
    fn hashed_names_match_like_ssh_keygen_h_writes_them() {
        // HMAC-SHA1 of "[127.0.0.1]:2222" under the salt below, as ssh-keygen -H writes it.
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap();
        mac.update(b"[127.0.0.1]:2222");
        let hash = mac.finalize().into_bytes();
        let encode = |bytes: &[u8]| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(bytes)
        };
        let hosts = known(&format!("|1|{}|{} {KEY_A}\n", encode(&salt), encode(&hash)));
        assert_eq!(hosts.check("127.0.0.1", 2222, &wire(KEY_A)), Ok(()));
        assert!(hosts.check("127.0.0.2", 2222, &wire(KEY_A)).is_err());
    }

    #[test]
    fn globs_match_like_ssh() {
        assert!(glob("*.example.com", "a.b.example.com"));
        assert!(glob("git?.example.com", "git1.example.com"));
        assert!(!glob("git?.example.com", "git.example.com"));
        assert!(glob("*", ""));
    }
}
