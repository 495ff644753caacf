//! Compiled schema sets by directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};

use super::{SchemaError, SchemaSet};

/// One directory's slot: locked while the directory compiles, so concurrent first requests for
/// it wait for one compilation instead of each running their own.
type Slot = Arc<Mutex<Option<SchemaSet>>>;

/// A cache of [`SchemaSet`]s keyed by canonical directory path. Compiling a directory is
/// expensive (tens of milliseconds for the GIS GMP package), validating against it is not, so the
/// node compiles each registry directory once per process. Failed loads are not cached: the next
/// request tries again (after the operator fixed the file).
///
/// Loading a directory blocks the caller and holds only that directory's slot; requests for other
/// directories proceed. Async callers call it from a blocking thread.
#[derive(Debug, Default)]
pub struct SchemaCache {
    slots: Mutex<HashMap<PathBuf, Slot>>,
}

impl SchemaCache {
    pub fn new() -> SchemaCache {
        SchemaCache::default()
    }

    /// The process-wide cache.
    pub fn global() -> &'static SchemaCache {
        static GLOBAL: OnceLock<SchemaCache> = OnceLock::new();
        GLOBAL.get_or_init(SchemaCache::new)
    }

    /// The compiled set of `dir`, compiling it with [`SchemaSet::load_dir`] on first use.
    ///
    /// # Errors
    /// [`SchemaError::Io`] when `dir` cannot be resolved; otherwise as [`SchemaSet::load_dir`].
    pub fn get_or_load(&self, dir: &Path) -> Result<SchemaSet, SchemaError> {
        let key = canonical(dir)?;
        let slot = Arc::clone(lock(&self.slots).entry(key.clone()).or_default());
        let mut slot = lock(&slot);
        if let Some(set) = slot.as_ref() {
            return Ok(set.clone());
        }
        let set = SchemaSet::load_dir(&key)?;
        *slot = Some(set.clone());
        Ok(set)
    }

    /// Forgets the compiled set of `dir` (after its schemas changed); the next
    /// [`SchemaCache::get_or_load`] compiles it again. Sets already handed out stay usable.
    /// Returns whether a set was cached.
    ///
    /// # Errors
    /// [`SchemaError::Io`] when `dir` cannot be resolved.
    pub fn invalidate(&self, dir: &Path) -> Result<bool, SchemaError> {
        let key = canonical(dir)?;
        let removed = lock(&self.slots).remove(&key);
        Ok(removed.is_some_and(|slot| lock(&slot).is_some()))
    }

    /// Directories with a compiled set, sorted.
    pub fn cached_dirs(&self) -> Vec<PathBuf> {
        let slots: Vec<(PathBuf, Slot)> = lock(&self.slots)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        let mut dirs: Vec<PathBuf> = slots
            .into_iter()
            // A slot being compiled right now holds no set yet.
            .filter(|(_, slot)| match slot.try_lock() {
                Ok(set) => set.is_some(),
                Err(TryLockError::Poisoned(p)) => p.into_inner().is_some(),
                Err(TryLockError::WouldBlock) => false,
            })
            .map(|(dir, _)| dir)
            .collect();
        dirs.sort();
        dirs
    }
}

fn canonical(dir: &Path) -> Result<PathBuf, SchemaError> {
    std::fs::canonicalize(dir).map_err(|source| SchemaError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// Locks, ignoring poisoning: the maps hold only finished values, never a half-made one.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
