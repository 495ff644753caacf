//! XSD sets from the store written out as files for libxml2, which compiles schemas from disk:
//! each set goes into its own folder `root/<name>-<content hash>/`, so a changed set gets a new
//! folder (and is compiled anew) while an unchanged one is written once. Used by the exchange
//! (`data_dir/xsd`) and by registry administration, which compiles a set before storing it.

use std::path::PathBuf;

use super::SchemaError;
use crate::store::XsdSet;

/// Writes an XSD set into `root/<name>-<hash>/` unless it is there already; returns the folder.
///
/// # Errors
/// [`SchemaError::WriteSet`] when the files cannot be written, or a file name tries to leave
/// the folder.
pub fn write_xsd_set(root: &std::path::Path, set: &XsdSet) -> Result<PathBuf, SchemaError> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for (path, content) in &set.files {
        ctx.update(path.as_bytes());
        ctx.update(&[0]);
        ctx.update(&(content.len() as u64).to_le_bytes());
        ctx.update(content);
    }
    let hash: String = ctx.finish().as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let safe_name: String = set
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = root.join(format!("{safe_name}-{hash}"));
    let err = |source: std::io::Error| SchemaError::WriteSet {
        name: set.name.clone(),
        path: dir.clone(),
        source,
    };
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    let staging = root.join(format!(".{safe_name}-{hash}.{}", std::process::id()));
    std::fs::create_dir_all(&staging).map_err(err)?;
    for (path, content) in &set.files {
        let rel = std::path::Path::new(path);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err(err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("file name `{path}` leaves the XSD folder"),
            )));
        }
        let target = staging.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        std::fs::write(&target, content).map_err(err)?;
    }
    std::fs::write(staging.join(".complete"), b"").map_err(err)?;
    match std::fs::rename(&staging, &dir) {
        Ok(()) => Ok(dir),
        // Another task or node wrote the same content first.
        Err(_) if dir.join(".complete").exists() => {
            let _ = std::fs::remove_dir_all(&staging);
            Ok(dir)
        }
        Err(e) => Err(err(e)),
    }
}
