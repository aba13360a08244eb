//! The reconciler's commit signer (`--signing-key`): an OpenSSH private key that signs
//! outcome commits the way `git commit -S` does with `gpg.format=ssh` (SSHSIG, namespace
//! "git"), so that the reconciler's own `--verify-signatures` accepts them.

use std::path::{Path, PathBuf};

use ssh_key::{HashAlg, LineEnding, PrivateKey};

/// The SSHSIG namespace git signs commits in.
const GIT_NAMESPACE: &str = "git";

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("reading signing key {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("signing key {path} is encrypted; give a key without passphrase")]
    Encrypted { path: PathBuf },
    #[error("signing the commit: {0}")]
    Sign(String),
}

pub struct CommitSigner {
    key: PrivateKey,
    /// `ssh-ed25519 AAAA...`, for messages and checks at start-up.
    public: String,
}

impl std::fmt::Debug for CommitSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitSigner")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl CommitSigner {
    /// Reads an OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`).
    pub fn read(path: &Path) -> Result<Self, SigningError> {
        let read = |message: String| SigningError::Read {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|error| read(error.to_string()))?;
        let key = PrivateKey::from_openssh(text.trim()).map_err(|error| read(error.to_string()))?;
        if key.is_encrypted() {
            return Err(SigningError::Encrypted {
                path: path.to_path_buf(),
            });
        }
        let public = key
            .public_key()
            .to_openssh()
            .map_err(|error| read(error.to_string()))?;
        Ok(CommitSigner { key, public })
    }

    /// The public half, as an allowed-signers line lists it.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The armored SSH signature (`-----BEGIN SSH SIGNATURE-----`) of `data`, the
    /// commit buffer without its `gpgsig` header.
    pub fn sign(&self, data: &[u8]) -> Result<String, SigningError> {
        self.key
            .sign(GIT_NAMESPACE, HashAlg::Sha512, data)
            .and_then(|signature| signature.to_pem(LineEnding::LF))
            .map_err(|error| SigningError::Sign(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::signatures::AllowedSigners;

    #[test]
    fn a_signature_verifies_against_an_allowed_signers_file_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = crate::test_support::ssh_key(dir.path(), "meshcd");
        let signer = CommitSigner::read(&key).unwrap();
        let allowed = dir.path().join("allowed_signers");
        std::fs::write(
            &allowed,
            format!("meshcd@localhost {}\n", signer.public_key()),
        )
        .unwrap();
        let signers = AllowedSigners::read(&allowed).unwrap();
        let data = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmeshcd: promote\n";
        let armored = signer.sign(data).unwrap();
        assert!(armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
        assert_eq!(
            signers.verify(armored.as_bytes(), data),
            Ok("meshcd@localhost".to_string())
        );
        assert!(signers.verify(armored.as_bytes(), b"tree 00\n").is_err());
    }
}
