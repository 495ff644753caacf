//! Registry administration: what `rsmev participant|infotype|service|grant|registry …` and the
//! admin JSON API do, in one place. Every registration is checked before it is stored, and a
//! refusal says what to fix: an unknown provider, a certificate that cannot be read or belongs to
//! someone else, an XSD set that does not compile or does not define the type's namespace, a
//! QName registered twice.
//!
//! Registry files: `registry.toml` (the [`Registry`] in TOML) and, beside it, `xsd/<set>/…` with
//! the XSD sets the information types name. Export writes exactly what import reads, sorted, so
//! the files diff well in git.

use std::path::{Path, PathBuf};

use rsmev_registry::{Grant, InfoType, Mnemonic, Participant, Registry, RegistryError, Service};

use crate::dsig::Certificate;
use crate::schema::{SchemaSet, write_xsd_set};
use crate::store::{Store, StoreError, XsdSet};

/// Why an administrative change was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    #[error("{}", join(.0))]
    Registry(Vec<RegistryError>),
    #[error("participant `{mnemonic}`: certificate #{index} cannot be read: {problem}")]
    Certificate {
        mnemonic: Mnemonic,
        index: usize,
        problem: String,
    },
    #[error("XSD set `{name}`: {problem}")]
    Xsd { name: String, problem: String },
    #[error("{what} already exists; use the update form to replace it")]
    Exists { what: String },
    #[error("{what} does not exist")]
    Missing { what: String },
    #[error("{path}: {problem}")]
    File { path: PathBuf, problem: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn join(errors: &[RegistryError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether a registration may replace an existing entry with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Refuse when the key exists.
    Add,
    /// Insert or replace.
    Upsert,
}

/// Registry administration over a store. `work_dir` is where XSD sets are written out to be
/// compiled (the node's `data_dir/xsd`).
#[derive(Debug)]
pub struct Admin<'a> {
    store: &'a dyn Store,
    work_dir: PathBuf,
}

impl<'a> Admin<'a> {
    pub fn new(store: &'a dyn Store, work_dir: impl Into<PathBuf>) -> Admin<'a> {
        Admin {
            store,
            work_dir: work_dir.into(),
        }
    }

    /// # Errors
    /// [`AdminError`] when the participant exists (in [`Mode::Add`]), a certificate is unreadable or
    /// already registered to another participant, or the store fails.
    pub async fn put_participant(&self, p: &Participant, mode: Mode) -> Result<(), AdminError> {
        let mut registry = self.store.registry().await?;
        if mode == Mode::Add && registry.participant(&p.mnemonic).is_some() {
            return Err(AdminError::Exists {
                what: format!("participant `{}`", p.mnemonic),
            });
        }
        check_certificates(p)?;
        registry.participants.retain(|q| q.mnemonic != p.mnemonic);
        registry.participants.push(p.clone());
        refuse_errors(
            registry
                .validate()
                .into_iter()
                .filter(|e| matches!(e, RegistryError::SharedCertificate { .. })),
        )?;
        self.store.put_participant(p).await?;
        Ok(())
    }

    /// # Errors
    /// [`AdminError`] when the QName is registered (in [`Mode::Add`]), the provider is unknown, the
    /// XSD set is missing, does not compile or does not define the type's namespace.
    pub async fn put_infotype(&self, t: &InfoType, mode: Mode) -> Result<(), AdminError> {
        let mut registry = self.store.registry().await?;
        if mode == Mode::Add && registry.infotype(&t.qname).is_some() {
            return Err(AdminError::Exists {
                what: format!("information type {}", t.qname),
            });
        }
        registry.infotypes.retain(|q| q.qname != t.qname);
        registry.infotypes.push(t.clone());
        refuse_errors(
            registry
                .validate()
                .into_iter()
                .filter(|e| mentions_infotype(e, t)),
        )?;
        if let Some(name) = &t.xsd {
            let set = self.store.xsd_set(name).await?.ok_or_else(|| AdminError::Xsd {
                name: name.clone(),
                problem: "no such XSD set; add it first".into(),
            })?;
            self.check_xsd_defines(&set, t)?;
        }
        self.store.put_infotype(t).await?;
        Ok(())
    }

    /// # Errors
    /// [`AdminError`] when the service exists (in [`Mode::Add`]), its provider or types are unknown,
    /// or it lists a type of another provider.
    pub async fn put_service(&self, s: &Service, mode: Mode) -> Result<(), AdminError> {
        let mut registry = self.store.registry().await?;
        if mode == Mode::Add && registry.services.iter().any(|x| x.code == s.code) {
            return Err(AdminError::Exists {
                what: format!("service `{}`", s.code),
            });
        }
        registry.services.retain(|x| x.code != s.code);
        registry.services.push(s.clone());
        refuse_errors(registry.validate().into_iter().filter(|e| match e {
            RegistryError::UnknownParticipant { what, .. } | RegistryError::UnknownInfoType { what, .. } => {
                what.contains(&format!("`{}`", s.code))
            }
            RegistryError::ServiceProviderMismatch { code, .. }
            | RegistryError::DuplicateService { code } => code == &s.code,
            _ => false,
        }))?;
        self.store.put_service(s).await?;
        Ok(())
    }

    /// # Errors
    /// [`AdminError`] when the consumer or the information type is unknown, or the type is a
    /// response type.
    pub async fn grant(&self, g: &Grant) -> Result<(), AdminError> {
        let registry = self.store.registry().await?;
        refuse_errors(registry.grant_problems(g))?;
        self.store.put_grant(g).await?;
        Ok(())
    }

    /// # Errors
    /// [`AdminError::Missing`] when there was no such grant.
    pub async fn revoke(&self, g: &Grant) -> Result<(), AdminError> {
        if self.store.revoke_grant(g).await? {
            Ok(())
        } else {
            Err(AdminError::Missing {
                what: format!("a grant of {} to `{}`", g.infotype, g.consumer),
            })
        }
    }

    /// Reads every file under `dir` into an XSD set named `name`, checks that it compiles, and
    /// stores it.
    ///
    /// # Errors
    /// [`AdminError::File`] when the folder cannot be read, [`AdminError::Xsd`] when it has no
    /// `.xsd` file or does not compile.
    pub async fn put_xsd_set(&self, name: &str, dir: &Path) -> Result<XsdSet, AdminError> {
        let set = read_xsd_dir(name, dir)?;
        self.compile(&set)?;
        self.store.put_xsd_set(&set).await?;
        Ok(set)
    }

    /// Writes `registry.toml` and `xsd/<set>/…` into `dir`.
    ///
    /// # Errors
    /// [`AdminError::File`] when writing fails.
    pub async fn export(&self, dir: &Path) -> Result<(), AdminError> {
        let mut registry = self.store.registry().await?;
        registry.normalize();
        let file_err = |path: &Path, e: &dyn std::fmt::Display| AdminError::File {
            path: path.to_owned(),
            problem: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(|e| file_err(dir, &e))?;
        let text = toml::to_string_pretty(&registry).map_err(|e| file_err(dir, &e))?;
        let path = dir.join("registry.toml");
        std::fs::write(
            &path,
            format!("# RSMEV registry, exported by `rsmev registry export`.\n\n{text}"),
        )
        .map_err(|e| file_err(&path, &e))?;
        for name in self.store.xsd_set_names().await? {
            let Some(set) = self.store.xsd_set(&name).await? else {
                continue;
            };
            for (rel, content) in &set.files {
                let target = dir.join("xsd").join(&name).join(rel);
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| file_err(parent, &e))?;
                }
                std::fs::write(&target, content).map_err(|e| file_err(&target, &e))?;
            }
        }
        Ok(())
    }

    /// Replaces the whole registry with the one in `dir` (as [`Admin::export`] writes it), after
    /// checking all of it: references, certificates, every XSD set compiling and defining the
    /// namespaces of its types. Nothing changes unless everything passes.
    ///
    /// # Errors
    /// The first kind of problem found, with every instance of it.
    pub async fn import(&self, dir: &Path) -> Result<Registry, AdminError> {
        let path = dir.join("registry.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| AdminError::File {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        let mut registry: Registry = toml::from_str(&text).map_err(|e| AdminError::File {
            path: path.clone(),
            problem: e.to_string(),
        })?;
        registry.normalize();
        refuse_errors(registry.validate())?;
        for p in &registry.participants {
            check_certificates(p)?;
        }
        let mut sets: Vec<XsdSet> = Vec::new();
        for t in &registry.infotypes {
            let Some(name) = &t.xsd else { continue };
            if !sets.iter().any(|s| &s.name == name) {
                let set = read_xsd_dir(name, &dir.join("xsd").join(name))?;
                self.compile(&set)?;
                sets.push(set);
            }
            let set = sets
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| AdminError::Xsd {
                    name: name.clone(),
                    problem: "missing".into(),
                })?;
            self.check_xsd_defines(set, t)?;
        }
        self.store.replace_registry(&registry, &sets).await?;
        Ok(registry)
    }

    fn compile(&self, set: &XsdSet) -> Result<SchemaSet, AdminError> {
        let dir = write_xsd_set(&self.work_dir, set).map_err(|e| AdminError::Xsd {
            name: set.name.clone(),
            problem: e.to_string(),
        })?;
        SchemaSet::load_dir(&dir).map_err(|e| AdminError::Xsd {
            name: set.name.clone(),
            problem: e.to_string(),
        })
    }

    fn check_xsd_defines(&self, set: &XsdSet, t: &InfoType) -> Result<(), AdminError> {
        let compiled = self.compile(set)?;
        if compiled.namespaces().iter().any(|n| n == &t.qname.namespace) {
            Ok(())
        } else {
            Err(AdminError::Xsd {
                name: set.name.clone(),
                problem: format!(
                    "defines no schema for the namespace of {} (it defines: {})",
                    t.qname,
                    compiled.namespaces().join(", ")
                ),
            })
        }
    }
}

fn refuse_errors(errors: impl IntoIterator<Item = RegistryError>) -> Result<(), AdminError> {
    let errors: Vec<RegistryError> = errors.into_iter().collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Registry(errors))
    }
}

fn mentions_infotype(e: &RegistryError, t: &InfoType) -> bool {
    match e {
        RegistryError::UnknownParticipant { what, .. } => what.contains(&t.qname.to_string()),
        RegistryError::InvalidInfoType { qname, .. } | RegistryError::DuplicateInfoType { qname } => {
            qname == &t.qname
        }
        _ => false,
    }
}

fn check_certificates(p: &Participant) -> Result<(), AdminError> {
    for (i, pem) in p.certificates.iter().enumerate() {
        Certificate::from_pem_or_der(pem.as_bytes()).map_err(|e| AdminError::Certificate {
            mnemonic: p.mnemonic.clone(),
            index: i + 1,
            problem: e.to_string(),
        })?;
    }
    Ok(())
}

/// Reads every regular file under `dir` (recursively) as an XSD set.
///
/// # Errors
/// [`AdminError::File`] when the folder cannot be read; [`AdminError::Xsd`] when it holds no
/// `.xsd` file.
pub fn read_xsd_dir(name: &str, dir: &Path) -> Result<XsdSet, AdminError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> Result<(), AdminError> {
        let err = |e: std::io::Error| AdminError::File {
            path: dir.to_owned(),
            problem: e.to_string(),
        };
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        entries.sort_by_key(std::fs::DirEntry::path);
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type().map_err(err)?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                let content = std::fs::read(&path).map_err(|e| AdminError::File {
                    path: path.clone(),
                    problem: e.to_string(),
                })?;
                out.push((rel, content));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    if !files.iter().any(|(p, _)| p.ends_with(".xsd")) {
        return Err(AdminError::Xsd {
            name: name.to_owned(),
            problem: format!("{} holds no .xsd file", dir.display()),
        });
    }
    Ok(XsdSet {
        name: name.to_owned(),
        files,
    })
}
