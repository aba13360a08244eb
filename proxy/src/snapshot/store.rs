//! The snapshot in force, behind an `ArcSwap`: readers take a reference without locking,
//! a reload replaces it whole, and requests in flight finish on the one they started with.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;

use super::Snapshot;
use meshcd_schemas::proto;

use super::compile::{CompileContext, InvalidSnapshot, compile};
use super::load::{LoadError, parse, read_snapshot};

pub struct SnapshotStore {
    path: PathBuf,
    current: ArcSwapOption<Snapshot>,
    /// The bytes of the last file applied or rejected, so unchanged files cost nothing.
    last_bytes: Mutex<Option<Vec<u8>>>,
    /// The message the snapshot in force was compiled from (as sent), and the services
    /// looked up on demand that were added to it.
    base: Mutex<Option<(proto::Snapshot, Vec<proto::Service>)>>,
}

/// What a reload did.
#[derive(Debug)]
pub enum Reload {
    Applied(Arc<Snapshot>),
    Unchanged,
}

impl SnapshotStore {
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            current: ArcSwapOption::empty(),
            last_bytes: Mutex::new(None),
            base: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The snapshot in force, if one was ever loaded.
    pub fn current(&self) -> Option<Arc<Snapshot>> {
        self.current.load_full()
    }

    /// Reads the file again; a bad file leaves the snapshot in force untouched.
    pub fn reload(&self, context: &CompileContext<'_>) -> Result<Reload, LoadError> {
        let bytes = read_snapshot(&self.path)?;
        let mut last = self.last_bytes.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_deref() == Some(bytes.as_slice()) {
            return Ok(Reload::Unchanged);
        }
        *last = Some(bytes.clone());
        let snapshot = parse(&self.path, &bytes)?;
        let compiled = self
            .apply(snapshot, context)
            .map_err(|source| LoadError::Invalid {
                path: self.path.clone(),
                source,
            })?;
        Ok(Reload::Applied(compiled))
    }

    /// Compiles a snapshot that did not come from the file (the control plane's stream)
    /// and puts it in force; an invalid one leaves the snapshot in force untouched.
    pub fn apply(
        &self,
        snapshot: proto::Snapshot,
        context: &CompileContext<'_>,
    ) -> Result<Arc<Snapshot>, InvalidSnapshot> {
        let mut base = self.base.lock().unwrap_or_else(|e| e.into_inner());
        let compiled = Arc::new(compile(snapshot.clone(), context)?);
        self.current.store(Some(compiled.clone()));
        *base = Some((snapshot, Vec::new()));
        Ok(compiled)
    }

    /// The snapshot in force with `service` added (same version: what the control plane
    /// sent, completed), if `version` is still in force; if a newer one replaced it, that
    /// one (it may have the service). `None` when nothing is in force.
    pub fn extend(
        &self,
        version: &str,
        service: proto::Service,
        context: &CompileContext<'_>,
    ) -> Result<Option<Arc<Snapshot>>, InvalidSnapshot> {
        let mut base = self.base.lock().unwrap_or_else(|e| e.into_inner());
        let Some((sent, extras)) = base.as_mut().filter(|(sent, _)| sent.version == version) else {
            return Ok(self.current());
        };
        let has = |s: &proto::Service| s.name == service.name && s.namespace == service.namespace;
        if sent.services.iter().chain(extras.iter()).any(has) {
            // Another call added it first.
            return Ok(self.current());
        }
        let mut extended = sent.clone();
        extended.services.extend(extras.iter().cloned());
        extended.services.push(service.clone());
        let compiled = Arc::new(compile(extended, context)?);
        self.current.store(Some(compiled.clone()));
        extras.push(service);
        Ok(Some(compiled))
    }

    /// Drops the looked-up services from the snapshot in force, if `version` still is:
    /// the next call that needs one asks again and gets its current endpoints.
    pub fn forget_extensions(&self, version: &str, context: &CompileContext<'_>) {
        let mut base = self.base.lock().unwrap_or_else(|e| e.into_inner());
        let Some((sent, extras)) = base
            .as_mut()
            .filter(|(sent, extras)| sent.version == version && !extras.is_empty())
        else {
            return;
        };
        // The message compiled once already; it compiles again.
        if let Ok(compiled) = compile(sent.clone(), context) {
            self.current.store(Some(Arc::new(compiled)));
            extras.clear();
        }
    }
}
