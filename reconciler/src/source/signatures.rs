//! Commit signature verification for `--verify-signatures`: an OpenSSH allowed-signers
//! file, and SSH signatures (git's `gpg.format=ssh`, namespace "git") checked against it.

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, PublicKey, SshSig};

/// The SSHSIG namespace git signs commits in.
const GIT_NAMESPACE: &str = "git";

#[derive(Debug, thiserror::Error)]
pub enum AllowedSignersError {
    #[error("reading allowed signers {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("allowed signers {path} lists no key")]
    Empty { path: PathBuf },
}

/// Why a commit is not accepted. Shown in the status as the reason of the rejection.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the commit is not signed")]
    Unsigned,
    #[error("the commit's signature is not an SSH signature (only gpg.format=ssh is supported)")]
    NotSsh,
    #[error("the commit's SSH signature cannot be parsed: {0}")]
    Malformed(String),
    #[error("the commit is signed for namespace {0:?}, not \"git\"")]
    Namespace(String),
    #[error("the commit is signed by key {fingerprint}, which is not an allowed signer")]
    UnknownKey { fingerprint: String },
    #[error("the commit's signature by key {fingerprint} does not verify")]
    Invalid { fingerprint: String },
}

#[derive(Debug, Clone)]
struct AllowedSigner {
    principals: String,
    /// `namespaces="..."`: when present, the key may sign only in these.
    namespaces: Option<Vec<String>>,
    key: PublicKey,
}

#[derive(Debug, Clone)]
pub struct AllowedSigners {
    signers: Vec<AllowedSigner>,
}

impl AllowedSigners {
    pub fn read(path: &Path) -> Result<Self, AllowedSignersError> {
        let text = std::fs::read_to_string(path).map_err(|source| AllowedSignersError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut signers = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let signer = parse_line(line).map_err(|message| AllowedSignersError::Line {
                path: path.to_path_buf(),
                line: index + 1,
                message,
            })?;
            signers.push(signer);
        }
        if signers.is_empty() {
            return Err(AllowedSignersError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(AllowedSigners { signers })
    }

    /// Checks `signature` (the commit's `gpgsig` header) over `signed` (the commit
    /// without it) and returns the principals of the key that made it.
    pub fn verify(&self, signature: &[u8], signed: &[u8]) -> Result<String, SignatureError> {
        let text = std::str::from_utf8(signature).map_err(|_| SignatureError::NotSsh)?;
        if !text
            .trim_start()
            .starts_with("-----BEGIN SSH SIGNATURE-----")
        {
            return Err(SignatureError::NotSsh);
        }
        let signature =
            SshSig::from_pem(text).map_err(|error| SignatureError::Malformed(error.to_string()))?;
        if signature.namespace() != GIT_NAMESPACE {
            return Err(SignatureError::Namespace(signature.namespace().to_string()));
        }
        let fingerprint = signature
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string();
        let signer = self
            .signers
            .iter()
            .filter(|signer| signer.key.key_data() == signature.public_key())
            .find(|signer| {
                signer
                    .namespaces
                    .as_ref()
                    .is_none_or(|namespaces| namespaces.iter().any(|n| n == GIT_NAMESPACE))
            })
            .ok_or_else(|| SignatureError::UnknownKey {
                fingerprint: fingerprint.clone(),
            })?;
        signer
            .key
            .verify(GIT_NAMESPACE, signed, &signature)
            .map_err(|_| SignatureError::Invalid { fingerprint })?;
        Ok(signer.principals.clone())
    }
}

/// `principals [options] keytype base64 [comment]` (ssh-keygen(1), ALLOWED SIGNERS).
fn parse_line(line: &str) -> Result<AllowedSigner, String> {
    let tokens = tokenize(line);
    let mut tokens = tokens.iter().map(String::as_str);
    let principals = tokens.next().ok_or("no principals")?.to_string();
    let mut next = tokens.next().ok_or("no key")?;
    let mut namespaces = None;
    if next.parse::<ssh_key::Algorithm>().is_err() {
        for option in split_options(next) {
            let (name, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
            match name.to_ascii_lowercase().as_str() {
                "namespaces" => {
                    namespaces = Some(
                        value
                            .trim_matches('"')
                            .split(',')
                            .map(|n| n.trim().to_string())
                            .collect(),
                    )
                }
                // Refused rather than ignored: ignoring a restriction would accept what
                // the file's author meant to exclude.
                other => return Err(format!("option {other:?} is not supported")),
            }
        }
        next = tokens.next().ok_or("no key")?;
    }
    let data = tokens.next().ok_or("no key data")?;
    let key = PublicKey::from_openssh(&format!("{next} {data}"))
        .map_err(|error| format!("invalid key: {error}"))?;
    Ok(AllowedSigner {
        principals,
        namespaces,
        key,
    })
}

/// Splits on whitespace outside double quotes; quotes are kept.
fn tokenize(line: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for character in line.chars() {
        match character {
            '"' => {
                quoted = !quoted;
                current.push(character);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// Splits `a,b="x,y",c` on commas outside quotes.
fn split_options(text: &str) -> Vec<String> {
    let mut options = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for character in text.chars() {
        match character {
            '"' => {
                quoted = !quoted;
                current.push(character);
            }
            ',' if !quoted => options.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    options.push(current);
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::ssh_key;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO3JjUaARjb6s0d5V6GNlH0z+ZXR+JTKxCQcDsl3p6dw";

    fn read(text: &str) -> Result<AllowedSigners, AllowedSignersError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("allowed_signers");
        std::fs::write(&path, text).unwrap();
        AllowedSigners::read(&path)
    }

    #[test]
    fn lines_with_and_without_options_parse() {
        let signers = read(&format!(
            "# who may change the mesh\nalice@example.com {KEY} alice\n\"bob@example.com,carol@example.com\" namespaces=\"git,file\" {KEY}\n"
        ))
        .unwrap();
        assert_eq!(signers.signers.len(), 2);
        assert_eq!(
            signers.signers[1].namespaces,
            Some(vec!["git".to_string(), "file".to_string()])
        );
    }

    #[test]
    fn unsupported_options_are_refused_with_the_line() {
        let error = read(&format!(
            "alice@example.com valid-before=\"20300101\" {KEY}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            error.ends_with(":1: option \"valid-before\" is not supported"),
            "{error}"
        );
    }

    #[test]
    fn a_file_without_keys_is_an_error() {
        assert!(matches!(
            read("# nobody\n"),
            Err(AllowedSignersError::Empty { .. })
        ));
    }

    /// Signs `data` as `ssh-keygen -Y sign` does for git.
    fn sign(dir: &Path, key: &Path, namespace: &str, data: &[u8]) -> Vec<u8> {
        // ssh-keygen will not overwrite an existing .sig: one payload file per signature.
        let file = dir.join(format!(
            "payload-{}-{namespace}",
            key.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&file, data).unwrap();
        let status = std::process::Command::new("ssh-keygen")
            .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
            .arg(key)
            .arg(&file)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read(file.with_extension("sig")).unwrap()
    }

    #[test]
    fn only_a_listed_key_signing_for_git_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (alice, alice_public) = ssh_key(dir.path(), "alice");
        let (mallory, _) = ssh_key(dir.path(), "mallory");
        let signers = read(&format!("alice@example.com {alice_public}\n")).unwrap();
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nchange\n";

        let signature = sign(dir.path(), &alice, "git", data);
        assert_eq!(
            signers.verify(&signature, data),
            Ok("alice@example.com".to_string())
        );
        assert!(matches!(
            signers.verify(&signature, b"tree 0000\n\nanother change\n"),
            Err(SignatureError::Invalid { .. })
        ));
        let by_mallory = sign(dir.path(), &mallory, "git", data);
        assert!(matches!(
            signers.verify(&by_mallory, data),
            Err(SignatureError::UnknownKey { .. })
        ));
        let other_namespace = sign(dir.path(), &alice, "file", data);
        assert_eq!(
            signers.verify(&other_namespace, data),
            Err(SignatureError::Namespace("file".into()))
        );
    }

    #[test]
    fn a_gpg_signature_is_not_an_ssh_signature() {
        let signers = read(&format!("alice {KEY}\n")).unwrap();
        assert_eq!(
            signers.verify(b"-----BEGIN PGP SIGNATURE-----\n...", b"tree 00"),
            Err(SignatureError::NotSsh)
        );
    }
}
