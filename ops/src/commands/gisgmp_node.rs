//! `rsmev gisgmp register`: the GIS GMP module's participant and information types on this
//! node's registry; `rsmev gisgmp emulate`: a node answering as GIS GMP (`rsmev serve` with the
//! module on, registered, its key made on first start).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use rsmev_broker::admin::Mode;
use rsmev_broker::node::Role;
use rsmev_gisgmp::doc::Version;
use rsmev_gisgmp::module::served_types;
use rsmev_registry::{Grant, InfoType, InfoTypeKind, Mnemonic, Participant, ParticipantStatus, QName};

use super::keys::{generate_pem, write_private};
use rsmev_broker::admin::Admin;
use rsmev_broker::store::Store;

use super::store::{LocalStore, Open, load_config};
use crate::cli::{GisgmpEmulateArgs, GisgmpRegisterArgs, KeyAlgorithm};

pub(super) async fn register(args: GisgmpRegisterArgs) -> anyhow::Result<ExitCode> {
    let cert = match &args.cert {
        Some(path) => {
            Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    LocalStore::with(&args.data, Open::CreateIfMissing, async |local| {
        let version = format_of(&local.config)?;
        let done = put_module(
            local.store.as_ref(),
            &local.admin(),
            &args.participant,
            cert.as_deref(),
            &args.grant,
            args.federal,
            version,
        )
        .await?;
        done.say(&args.participant, &args.grant, args.federal);
        Ok(())
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn emulate(args: GisgmpEmulateArgs) -> anyhow::Result<ExitCode> {
    let mut config = load_config(&args.serve.data)?;
    let g = &mut config.gisgmp;
    if let Some(p) = &args.participant {
        g.participant = p.as_str().to_owned();
    } else if g.participant.trim().is_empty() {
        g.participant = "GISGMP".into();
    }
    if let Some(urn) = &args.urn {
        g.urn = urn.as_str().to_owned();
    } else if g.urn.trim().is_empty() {
        bail!("pass --urn URN (6 hex digits): the URN the emulator answers as, or set [gisgmp] urn");
    }
    let participant =
        Mnemonic::new(g.participant.trim()).map_err(|e| anyhow::anyhow!("[gisgmp] participant: {e}"))?;
    if g.key.trim().is_empty() && g.cert.trim().is_empty() {
        let dir = &config.storage.data_dir;
        let (key, cert) = (dir.join("gisgmp-key.pem"), dir.join("gisgmp-cert.pem"));
        if !key.exists() || !cert.exists() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let (key_pem, cert_pem) = generate_pem(
                KeyAlgorithm::EcdsaP256,
                participant.as_str(),
                "GIS GMP emulator",
                3650,
            )?;
            write_private(&key, &key_pem)?;
            std::fs::write(&cert, cert_pem).with_context(|| format!("writing {}", cert.display()))?;
            outln!(
                "generated the emulator's key {} and certificate {}",
                key.display(),
                cert.display()
            );
        }
        g.key = key.display().to_string();
        g.cert = cert.display().to_string();
    }
    let cert = read(Path::new(g.cert.trim()))?;
    let mut data = args.serve.data.clone();
    data.data = Some(config.storage.data_dir.clone());
    let version = format_of(&config)?;
    LocalStore::with(&data, Open::CreateIfMissing, async |local| {
        let done = put_module(
            local.store.as_ref(),
            &local.admin(),
            &participant,
            Some(&cert),
            &args.grant,
            false,
            version,
        )
        .await?;
        done.say(&participant, &args.grant, false);
        Ok(())
    })
    .await?;
    outln!(
        "GIS GMP emulator: participant {participant}, URN {}; register your system (rsmev participant add) and grant it (rsmev gisgmp register --grant MNEMONIC)",
        config.gisgmp.urn
    );
    super::serve::run_with(Role::Exchange, config, args.serve).await
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Registers `participant` (with `cert` when it is not registered yet), the served types with it
/// as provider (marked `federal` or not), and grants the request types to `grants`; what is there
/// already is kept (its federal mark set as asked), a type another participant provides is
/// refused.
pub(super) async fn put_module(
    store: &dyn Store,
    admin: &Admin<'_>,
    participant: &Mnemonic,
    cert: Option<&str>,
    grants: &[Mnemonic],
    federal: bool,
    version: Version,
) -> anyhow::Result<PutModule> {
    let registry = store.registry().await?;
    let mut done = PutModule::default();
    if registry.participant(participant).is_none() {
        let Some(cert) = cert else {
            bail!(
                "participant {participant} is not registered: pass --cert FILE.pem (the certificate the module signs with)"
            );
        };
        admin
            .put_participant(
                &Participant {
                    mnemonic: participant.clone(),
                    name: "Модуль ГИС ГМП".into(),
                    organisation: String::new(),
                    status: ParticipantStatus::Active,
                    certificates: vec![cert.to_owned()],
                },
                Mode::Add,
            )
            .await?;
        done.participant_added = true;
    }
    let mut requests = Vec::new();
    for (ns, request, response) in served_types(version) {
        for (root, kind) in [
            (&request, InfoTypeKind::Request),
            (&response, InfoTypeKind::Response),
        ] {
            let qname = QName::new(&ns, root.as_str());
            match registry.infotype(&qname) {
                Some(t) if &t.provider != participant => bail!(
                    "{qname} is provided by {}, not {participant}: change it with `rsmev infotype update`",
                    t.provider
                ),
                Some(t) if t.federal != federal => {
                    admin
                        .put_infotype(&InfoType { federal, ..t.clone() }, Mode::Upsert)
                        .await?;
                    done.marked += 1;
                }
                Some(_) => {}
                None => {
                    admin
                        .put_infotype(
                            &InfoType {
                                qname: qname.clone(),
                                version: version.as_str().into(),
                                kind,
                                provider: participant.clone(),
                                xsd: None,
                                transaction_code_required: false,
                                federal,
                                max_size: None,
                                description: format!("ГИС ГМП: {root}"),
                            },
                            Mode::Add,
                        )
                        .await?;
                    done.added += 1;
                }
            }
        }
        requests.push(QName::new(&ns, request.as_str()));
    }
    done.requests = requests.len();
    for consumer in grants {
        for infotype in &requests {
            admin
                .grant(&Grant {
                    consumer: consumer.clone(),
                    infotype: infotype.clone(),
                })
                .await?;
        }
    }
    Ok(done)
}

/// `[gisgmp] format` of `config`.
fn format_of(config: &rsmev_broker::config::NodeConfig) -> anyhow::Result<Version> {
    Version::parse(config.gisgmp.format.trim())
        .ok_or_else(|| anyhow::anyhow!("[gisgmp] format `{}`: 2.4.0 or 2.5.1", config.gisgmp.format))
}

/// What [`put_module`] registered.
#[derive(Debug, Default)]
pub(super) struct PutModule {
    participant_added: bool,
    /// Types added.
    added: usize,
    /// Types whose federal mark changed.
    marked: usize,
    /// Request types granted to each of the grants.
    requests: usize,
}

impl PutModule {
    /// Says what was registered, a line each.
    fn say(&self, participant: &Mnemonic, grants: &[Mnemonic], federal: bool) {
        if self.participant_added {
            outln!("participant {participant} registered");
        }
        outln!(
            "{} GIS GMP information type(s) registered with provider {participant}",
            self.added
        );
        if self.marked > 0 {
            let how = if federal {
                "marked federal"
            } else {
                "no longer federal"
            };
            outln!("{} GIS GMP information type(s) {how}", self.marked);
        }
        for consumer in grants {
            outln!("{consumer} may now send the {} GIS GMP requests", self.requests);
        }
    }
}
