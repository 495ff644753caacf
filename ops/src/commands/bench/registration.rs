//! Registration of the bench's consumer/provider pairs through [`Admin`]: keys and certificates,
//! each pair's namespace, XSD set, information types, service and grant, and the documents it sends.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use rsmev_broker::admin::{Admin, Mode};
use rsmev_broker::config::NodeConfig;
use rsmev_broker::dsig::{Certificate, RingSigner};
use rsmev_broker::envelope::InfoTypeName;
use rsmev_broker::node::{generate_self_signed, open_store};
use rsmev_registry::{
    Grant, InfoType, InfoTypeKind, Mnemonic, Participant, ParticipantStatus, QName, Service,
};

/// Which node a registration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// The one node of a plain run: consumers and providers.
    Plain,
    /// With `--federal`, the node under test: the consumers, and the federal link's participant
    /// `LINK_PARTICIPANT` as the provider of every (federal) type.
    Regional,
    /// With `--federal`, the node playing the federal SMEV 3: the providers, and the link as the
    /// consumer `LINK_UPSTREAM`.
    Federal,
}

/// The federal link's participant on the node under test, and its system upstream.
pub(super) const LINK_PARTICIPANT: &str = "SMEV3";
pub(super) const LINK_UPSTREAM: &str = "REGION";

/// The federal link's key and certificate (PEM), registered on both nodes of a `--federal` run.
pub(super) struct LinkKey {
    pub(super) key_pem: String,
    pub(super) cert_pem: String,
}

impl LinkKey {
    pub(super) fn generate() -> anyhow::Result<LinkKey> {
        let (key_pem, cert_pem) = generate_self_signed(LINK_UPSTREAM, "rsmev bench", 2)
            .map_err(|e| anyhow!("generating the federal link's key: {e}"))?;
        Ok(LinkKey { key_pem, cert_pem })
    }

    fn participant(&self, mnemonic: &str) -> anyhow::Result<Participant> {
        Ok(Participant {
            mnemonic: Mnemonic::new(mnemonic)?,
            name: "federal link".into(),
            organisation: "rsmev bench".into(),
            status: ParticipantStatus::Active,
            certificates: vec![self.cert_pem.clone()],
        })
    }
}

/// A registered pair's keys and documents.
pub(super) struct Parties {
    pub(super) consumer: RingSigner,
    pub(super) provider: RingSigner,
    pub(super) request_type: InfoTypeName,
    pub(super) request_doc: String,
    pub(super) response_doc: String,
}

/// The XSD of pair `n`'s namespace: a request and a response of repeated `Item`s.
fn bench_xsd(namespace: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{namespace}" targetNamespace="{namespace}" elementFormDefault="qualified">
  <xs:element name="BenchRequest" type="Items"/>
  <xs:element name="BenchResponse" type="Items"/>
  <xs:complexType name="Items">
    <xs:sequence><xs:element name="Item" type="Item" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType>
  <xs:complexType name="Item">
    <xs:simpleContent>
      <xs:extension base="xs:string"><xs:attribute name="n" type="xs:int" use="required"/></xs:extension>
    </xs:simpleContent>
  </xs:complexType>
</xs:schema>
"#
    )
}

/// A business document of root `root` in `namespace`, at least `size` bytes long.
pub(super) fn document(namespace: &str, root: &str, size: usize) -> String {
    let mut xml = format!(r#"<{root} xmlns="{namespace}">"#);
    let mut n = 0u32;
    while xml.len() + root.len() + 3 < size {
        n += 1;
        xml.push_str(&format!(
            r#"<Item n="{n}">Сведения о начислении № {n}: штраф &amp; пеня, УФК по г. Москве</Item>"#
        ));
    }
    xml.push_str(&format!("</{root}>"));
    xml
}

/// Registers the pairs in the store the configuration names, then closes it.
pub(super) async fn register(
    config: &NodeConfig,
    data_dir: &Path,
    pairs: u16,
    size: usize,
    side: Side,
    link: Option<&LinkKey>,
) -> anyhow::Result<Vec<Parties>> {
    let store = open_store(config)
        .await
        .with_context(|| format!("opening the store of {}", data_dir.display()))?;
    let result = register_in(store.as_ref(), data_dir, pairs, size, side, link).await;
    store.close().await;
    result
}

async fn register_in(
    store: &dyn rsmev_broker::store::Store,
    data_dir: &Path,
    pairs: u16,
    size: usize,
    side: Side,
    link: Option<&LinkKey>,
) -> anyhow::Result<Vec<Parties>> {
    let admin = Admin::new(store, data_dir.join("xsd"));
    let link = match (side, link) {
        (Side::Plain, _) => None,
        (Side::Regional, Some(key)) => Some(key.participant(LINK_PARTICIPANT)?),
        (Side::Federal, Some(key)) => Some(key.participant(LINK_UPSTREAM)?),
        (_, None) => return Err(anyhow!("a --federal registration needs the link's key")),
    };
    if let Some(link) = &link {
        admin
            .put_participant(link, Mode::Upsert)
            .await
            .with_context(|| format!("registering {}", link.mnemonic))?;
    }
    let mut out = Vec::with_capacity(usize::from(pairs));
    for i in 1..=pairs {
        let namespace = format!("urn://x-artefacts-rsmev/bench/pair{i}/1.0.0");
        let (consumer, mut consumer_p) = party(&format!("BENCH-C{i}"))?;
        let (provider, mut provider_p) = party(&format!("BENCH-P{i}"))?;
        // Each node knows its own side of the pair; the link stands for the other.
        match (side, &link) {
            (Side::Regional, Some(link)) => provider_p = link.clone(),
            (Side::Federal, Some(link)) => consumer_p = link.clone(),
            _ => {}
        }
        for p in [&consumer_p, &provider_p] {
            if link.as_ref().is_some_and(|l| l.mnemonic == p.mnemonic) {
                continue;
            }
            admin
                .put_participant(p, Mode::Upsert)
                .await
                .with_context(|| format!("registering {}", p.mnemonic))?;
        }
        let xsd_set = format!("bench-pair{i}");
        let xsd_dir: PathBuf = data_dir.join("bench-xsd").join(&xsd_set);
        std::fs::create_dir_all(&xsd_dir).with_context(|| format!("creating {}", xsd_dir.display()))?;
        std::fs::write(xsd_dir.join("bench.xsd"), bench_xsd(&namespace)).context("writing the bench XSD")?;
        admin
            .put_xsd_set(&xsd_set, &xsd_dir)
            .await
            .with_context(|| format!("storing the XSD set {xsd_set}"))?;
        let request = QName::new(&namespace, "BenchRequest");
        let response = QName::new(&namespace, "BenchResponse");
        for (qname, kind) in [
            (&request, InfoTypeKind::Request),
            (&response, InfoTypeKind::Response),
        ] {
            let t = InfoType {
                qname: qname.clone(),
                version: "1.0.0".into(),
                kind,
                provider: provider_p.mnemonic.clone(),
                xsd: Some(xsd_set.clone()),
                transaction_code_required: false,
                federal: side == Side::Regional,
                max_size: None,
                description: "rsmev bench".into(),
            };
            admin
                .put_infotype(&t, Mode::Upsert)
                .await
                .with_context(|| format!("registering {qname}"))?;
        }
        admin
            .put_service(
                &Service {
                    code: format!("bench-pair{i}"),
                    provider: provider_p.mnemonic.clone(),
                    description: "rsmev bench".into(),
                    infotypes: vec![request.clone(), response],
                },
                Mode::Upsert,
            )
            .await
            .context("registering the bench service")?;
        admin
            .grant(&Grant {
                consumer: consumer_p.mnemonic.clone(),
                infotype: request,
            })
            .await
            .context("granting the bench request")?;
        out.push(Parties {
            consumer,
            provider,
            request_type: InfoTypeName {
                namespace_uri: namespace.clone(),
                local_name: "BenchRequest".into(),
            },
            request_doc: document(&namespace, "BenchRequest", size),
            response_doc: document(&namespace, "BenchResponse", size),
        });
    }
    Ok(out)
}

/// A new key and certificate, and the participant registration with that certificate.
fn party(mnemonic: &str) -> anyhow::Result<(RingSigner, Participant)> {
    let (key, cert) = generate_self_signed(mnemonic, "rsmev bench", 2)
        .map_err(|e| anyhow!("generating the key of {mnemonic}: {e}"))?;
    let certificate = Certificate::from_pem(&cert).context("reading a generated certificate")?;
    let signer = RingSigner::from_pem(&key, certificate).context("reading a generated key")?;
    Ok((
        signer,
        Participant {
            mnemonic: Mnemonic::new(mnemonic)?,
            name: mnemonic.to_owned(),
            organisation: "rsmev bench".into(),
            status: ParticipantStatus::Active,
            certificates: vec![cert],
        },
    ))
}
