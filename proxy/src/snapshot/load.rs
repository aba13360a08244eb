//! Reads a snapshot file: protobuf JSON mapping of `meshcd.v1.Snapshot`.

use std::path::{Path, PathBuf};

use meshcd_schemas::proto;

use super::compile::InvalidSnapshot;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("read {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parse {path} as a meshcd.v1.Snapshot (protobuf JSON)")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("compile {path}")]
    Invalid {
        path: PathBuf,
        source: InvalidSnapshot,
    },
}

/// Reads the file's bytes (kept by the caller to skip reloads of unchanged content).
pub fn read_snapshot(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })
}

pub(super) fn parse(path: &Path, bytes: &[u8]) -> Result<proto::Snapshot, LoadError> {
    serde_json::from_slice(bytes).map_err(|source| LoadError::Parse {
        path: path.to_owned(),
        source,
    })
}
