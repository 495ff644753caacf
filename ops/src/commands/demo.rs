//! `rsmev demo`: a node, two participants, and one signed request/response exchange through it,
//! step by step over HTTP, ending with the request's trace. The first thing a newcomer runs; it
//! exits 0 only if the whole exchange succeeded.
//!
//! The consumer DEMO-MFC asks the provider DEMO-FNS for a person's INN by SNILS:
//! SendRequest → GetRequest → Ack → SendResponse (To = the ReplyTo received) → GetResponse → Ack.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use rsmev_broker::admin::{Admin, Mode};
use rsmev_broker::config::{LogFormat, NodeConfig};
use rsmev_broker::dsig::{Certificate, RingSigner};
use rsmev_broker::envelope::{InfoTypeName, ResponseContent};
use rsmev_broker::node::{Node, generate_self_signed};
use rsmev_broker::store::Store;
use rsmev_registry::{
    Grant, InfoType, InfoTypeKind, Mnemonic, Participant, ParticipantStatus, QName, Service,
};

use super::store::{LocalStore, Open};
use crate::cli::{DemoArgs, TraceFormat};
use crate::client::{Answer, Client};

const NAMESPACE: &str = "urn://x-artefacts-rsmev/demo/inn/1.0.0";
const REQUEST_ROOT: &str = "InnRequest";
const RESPONSE_ROOT: &str = "InnResponse";
const XSD_SET: &str = "demo-inn";
const CONSUMER: &str = "DEMO-MFC";
const PROVIDER: &str = "DEMO-FNS";

/// The demo information types: a request (SNILS and name) and its response (INN).
const DEMO_XSD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns="urn://x-artefacts-rsmev/demo/inn/1.0.0"
           targetNamespace="urn://x-artefacts-rsmev/demo/inn/1.0.0"
           elementFormDefault="qualified">
  <xs:element name="InnRequest">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Snils" type="SnilsType"/>
        <xs:element name="FamilyName" type="xs:string"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:element name="InnResponse">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Inn" type="InnType"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:simpleType name="SnilsType">
    <xs:restriction base="xs:string"><xs:pattern value="\d{11}"/></xs:restriction>
  </xs:simpleType>
  <xs:simpleType name="InnType">
    <xs:restriction base="xs:string"><xs:pattern value="\d{12}"/></xs:restriction>
  </xs:simpleType>
</xs:schema>
"#;

pub(super) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    // The node's own log stays quiet unless something goes wrong.
    crate::logging::init(LogFormat::Text, "warn")?;
    let mut config =
        NodeConfig::load(args.config.as_deref(), std::env::vars()).context("loading the configuration")?;
    let temporary = match (&args.data, &args.node) {
        (Some(dir), _) => {
            config.storage.data_dir.clone_from(dir);
            None
        }
        // The running node's data, as configured.
        (None, Some(_)) => None,
        (None, None) => {
            let dir = tempfile::Builder::new()
                .prefix("rsmev-demo-")
                .tempdir()
                .context("creating a temporary data directory")?;
            config.storage.data_dir = dir.path().to_owned();
            Some(dir)
        }
    };
    let kept = temporary.is_none();
    let data_dir = config.storage.data_dir.clone();
    if args.federal {
        let request_id = across_the_link(config, &data_dir, kept).await?;
        if kept {
            outln!(
                "\nThe data is kept. Try:\n  rsmev trace {request_id} --data {dir}\n  rsmev trace {request_id} --data {fed}",
                dir = data_dir.display(),
                fed = data_dir.join(FEDERAL_DATA).display(),
            );
        }
        drop(temporary);
        return Ok(ExitCode::SUCCESS);
    }
    let result = match &args.node {
        Some(url) => {
            let local = LocalStore::open_config(config, Open::Existing).await?;
            outln!(
                "RSMEV demo against the node at {url} (data in {})",
                data_dir.display()
            );
            let result = exchange(&local.store, &data_dir, url).await;
            local.close().await;
            result
        }
        None => {
            config.server.listen = ([127, 0, 0, 1], 0).into();
            let adapters = rsmev_ops::wiring::adapters(&config).map_err(anyhow::Error::msg)?;
            let node = Node::start(config, adapters)
                .await
                .context("starting the demo node")?;
            outln!(
                "RSMEV demo: a node listening on {}, data in {}{}",
                node.url,
                data_dir.display(),
                if kept { "" } else { " (removed at exit)" }
            );
            let store = node.exchange.store().clone();
            let url = node.url.clone();
            let result = exchange(&store, &data_dir, &url).await;
            node.shutdown().await.context("stopping the demo node")?;
            result
        }
    };
    let request_id = result?;
    if kept {
        outln!(
            "\nThe data is kept. Try:\n  rsmev trace {request_id} --data {dir}\n  rsmev report usage --from {today} --to {today} --data {dir}\n  rsmev participant list --data {dir}",
            dir = data_dir.display(),
            today = time::OffsetDateTime::now_utc().date()
        );
    }
    drop(temporary);
    Ok(ExitCode::SUCCESS)
}

/// A demo participant: its registration and its signer.
struct Party {
    participant: Participant,
    signer: RingSigner,
}

/// Registers the demo, runs the exchange, prints the trace; returns the request's MessageID.
async fn exchange(store: &Arc<dyn Store>, data_dir: &Path, url: &str) -> anyhow::Result<uuid::Uuid> {
    let admin = Admin::new(store.as_ref(), data_dir.join("xsd"));
    let consumer = party(data_dir, CONSUMER, "МФЦ (демо)", "ГАУ МФЦ, демонстрация")?;
    let provider = party(data_dir, PROVIDER, "ФНС (демо)", "ФНС России, демонстрация")?;
    register(
        &admin,
        data_dir,
        &consumer.participant,
        &provider.participant,
        false,
    )
    .await?;

    outln!("\nExchange: signed SOAP 1.3 envelopes posted to {url}/ws");
    let request_id = six_steps(
        Client::new(url, consumer.signer),
        Client::new(url, provider.signer),
    )
    .await?;

    outln!("\nTrace of the request (`rsmev trace {request_id}`):\n");
    let trace = super::trace::render(store.as_ref(), request_id.to_uuid(), TraceFormat::Text).await?;
    out!("{trace}");
    Ok(request_id.to_uuid())
}

/// Where the federal node of `--federal` keeps its data, inside the demo's data directory.
const FEDERAL_DATA: &str = "federal-node";
/// The federal link's participant on the regional node, and the region's system upstream.
const LINK_PARTICIPANT: &str = "SMEV3";
const LINK_UPSTREAM: &str = "DEMO-REGION";

/// `--federal`: a second node plays the federal SMEV 3 with the provider on it; the first node's
/// federal link carries the request up and the answer back. Prints the trace on both nodes.
async fn across_the_link(config: NodeConfig, data_dir: &Path, kept: bool) -> anyhow::Result<uuid::Uuid> {
    let mut federal_config = config.clone();
    federal_config.storage.data_dir = data_dir.join(FEDERAL_DATA);
    federal_config.storage.database = String::new();
    federal_config.rabbitmq.url = rsmev_broker::config::Secret::new(String::new());
    federal_config.federal = NodeConfig::default().federal;
    federal_config.server.listen = ([127, 0, 0, 1], 0).into();
    let federal = Node::start(federal_config, Vec::new())
        .await
        .context("starting the demo's federal node")?;
    outln!(
        "RSMEV demo across the federal link: a second node plays the federal SMEV 3 on {}",
        federal.url
    );

    let result = federal_exchange(config, &federal, data_dir, kept).await;
    federal.shutdown().await.context("stopping the federal node")?;
    result
}

async fn federal_exchange(
    config: NodeConfig,
    federal: &rsmev_broker::node::RunningNode,
    data_dir: &Path,
    kept: bool,
) -> anyhow::Result<uuid::Uuid> {
    // The link's key, registered on both nodes: as DEMO-REGION upstream, as SMEV3 here.
    let link = party(
        data_dir,
        LINK_UPSTREAM,
        "Региональный узел (демо)",
        "РСМЭВ, демонстрация",
    )?;
    let federal_data = data_dir.join(FEDERAL_DATA);
    let consumer = party(data_dir, CONSUMER, "МФЦ (демо)", "ГАУ МФЦ, демонстрация")?;
    let provider = party(&federal_data, PROVIDER, "ФНС (демо)", "ФНС России, демонстрация")?;
    let on_regional = Participant {
        mnemonic: Mnemonic::new(LINK_PARTICIPANT)?,
        name: "Федеральный шлюз (демо)".into(),
        ..link.participant.clone()
    };
    let federal_store = federal.exchange.store().clone();
    outln!("\nOn the federal node:");
    let admin = Admin::new(federal_store.as_ref(), federal_data.join("xsd"));
    register(
        &admin,
        &federal_data,
        &link.participant,
        &provider.participant,
        false,
    )
    .await?;

    let mut regional_config = config;
    regional_config.server.listen = ([127, 0, 0, 1], 0).into();
    regional_config.federal.endpoint = format!("{}/ws", federal.url);
    regional_config.federal.mnemonic = LINK_UPSTREAM.into();
    regional_config.federal.participant = LINK_PARTICIPANT.into();
    let demo_dir = data_dir.join("demo");
    regional_config.federal.key = demo_dir
        .join(format!("{LINK_UPSTREAM}.key.pem"))
        .display()
        .to_string();
    regional_config.federal.cert = demo_dir
        .join(format!("{LINK_UPSTREAM}.cert.pem"))
        .display()
        .to_string();
    regional_config.federal.poll_interval_ms = 100;
    regional_config.federal.max_backoff_secs = 1;
    regional_config.federal.run_in_serve = true;
    // Registered before the node starts, so the link finds its participant from the first step.
    outln!("\nOn the regional node (the types marked federal, served by the link):");
    {
        let local = LocalStore::open_config(regional_config.clone(), Open::CreateIfMissing).await?;
        let admin = Admin::new(local.store.as_ref(), data_dir.join("xsd"));
        let registered = register(&admin, data_dir, &consumer.participant, &on_regional, true).await;
        local.close().await;
        registered?;
    }
    let adapters = rsmev_ops::wiring::adapters(&regional_config).map_err(anyhow::Error::msg)?;
    let regional = Node::start(regional_config, adapters)
        .await
        .context("starting the demo's regional node")?;
    outln!(
        "\nThe regional node on {}, the federal one on {}; data in {}{}",
        regional.url,
        federal.url,
        data_dir.display(),
        if kept { "" } else { " (removed at exit)" }
    );
    let result = carry_across(&regional, federal, consumer, provider).await;
    regional.shutdown().await.context("stopping the regional node")?;
    result
}

/// The exchange across the link, then the request's trace on both nodes.
async fn carry_across(
    regional: &rsmev_broker::node::RunningNode,
    federal: &rsmev_broker::node::RunningNode,
    consumer: Party,
    provider: Party,
) -> anyhow::Result<uuid::Uuid> {
    outln!(
        "\nExchange: {CONSUMER} posts to {}/ws, {PROVIDER} to {}/ws; the link carries the rest",
        regional.url,
        federal.url
    );
    let request_id = six_steps(
        Client::new(&regional.url, consumer.signer),
        Client::new(&federal.url, provider.signer),
    )
    .await?;
    let regional_store = regional.exchange.store().clone();
    let federal_store = federal.exchange.store().clone();
    // The link acks each side after the other committed: give the last acks a moment to land.
    for _ in 0..50 {
        let acked = regional_store
            .history(request_id.to_uuid())
            .await?
            .iter()
            .any(|e| e.event == rsmev_broker::store::EventKind::Acked);
        if acked {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for (side, store) in [("regional", &regional_store), ("federal", &federal_store)] {
        outln!("\nTrace of the request on the {side} node (`rsmev trace {request_id}`):\n");
        let trace = super::trace::render(store.as_ref(), request_id.to_uuid(), TraceFormat::Text).await?;
        out!("{trace}");
    }
    Ok(request_id.to_uuid())
}

/// The six operations of one exchange, MFC's on its node and FNS's on its own (the same node,
/// or the two ends of the federal link); returns the request's MessageID.
async fn six_steps(mfc: Client, fns: Client) -> anyhow::Result<rsmev_broker::envelope::MessageId> {
    let request_type = InfoTypeName {
        namespace_uri: NAMESPACE.into(),
        local_name: REQUEST_ROOT.into(),
    };

    let request_doc = format!(
        r#"<InnRequest xmlns="{NAMESPACE}"><Snils>12345678901</Snils><FamilyName>Иванова</FamilyName></InnRequest>"#
    );
    let request_id = mfc.new_message_id();
    let sent = mfc
        .send_request(request_id.clone(), &request_doc)
        .await
        .context("step 1, SendRequest")?;
    step(
        1,
        "SendRequest",
        CONSUMER,
        &format!("{}, MessageID {request_id}", status(&sent)),
        &sent,
    );

    let got = fns
        .get_request(Some(request_type), Some(5))
        .await
        .context("step 2, GetRequest")?;
    let request = got
        .value
        .as_ref()
        .ok_or_else(|| anyhow!("step 2, GetRequest: the provider's queue is empty"))?;
    let data = request.sender_provided.value();
    if data.message_id != request_id || data.primary_content.element().as_str() != request_doc {
        bail!("step 2, GetRequest: the provider received another request than the one sent");
    }
    let reply_to = request
        .reply_to
        .clone()
        .ok_or_else(|| anyhow!("step 2, GetRequest: the request has no ReplyTo"))?;
    step(
        2,
        "GetRequest",
        PROVIDER,
        &format!(
            "request {request_id} from {}, document unchanged",
            request
                .metadata
                .sender
                .as_ref()
                .and_then(|s| s.mnemonic.as_deref())
                .unwrap_or("?")
        ),
        &got,
    );

    fns.ack(&request_id).await.context("step 3, Ack")?;
    outln!("  3. Ack           {PROVIDER}  request {request_id} confirmed; it leaves the queue");

    let response_doc = format!(r#"<InnResponse xmlns="{NAMESPACE}"><Inn>770123456789</Inn></InnResponse>"#);
    let response_id = fns.new_message_id();
    let answered = fns
        .send_response(response_id.clone(), &reply_to, &response_doc)
        .await
        .context("step 4, SendResponse")?;
    step(
        4,
        "SendResponse",
        PROVIDER,
        &format!(
            "{}, MessageID {response_id}, To = the ReplyTo received",
            status(&answered)
        ),
        &answered,
    );

    let got = mfc
        .get_response(None, Some(5))
        .await
        .context("step 5, GetResponse")?;
    let response = got
        .value
        .as_ref()
        .ok_or_else(|| anyhow!("step 5, GetResponse: the consumer's queue is empty"))?;
    let data = response.sender_provided.value();
    let answer = match &data.content {
        ResponseContent::Answer { primary_content, .. } => primary_content.element().as_str(),
        _ => bail!("step 5, GetResponse: the response is not a business answer"),
    };
    if data.message_id != response_id
        || answer != response_doc
        || response.original_message_id.as_ref() != Some(&request_id)
    {
        bail!("step 5, GetResponse: the consumer received another response than the one sent");
    }
    step(
        5,
        "GetResponse",
        CONSUMER,
        &format!("response {response_id} to {request_id}: {answer}"),
        &got,
    );

    mfc.ack(&response_id).await.context("step 6, Ack")?;
    outln!("  6. Ack           {CONSUMER}  response {response_id} confirmed; it leaves the queue");
    Ok(request_id)
}

fn status(answer: &Answer<rsmev_broker::envelope::MessageMetadata>) -> String {
    answer
        .value
        .status
        .map_or_else(|| "accepted".to_owned(), |s| s.as_str().to_owned())
}

fn step<T>(n: u32, operation: &str, actor: &str, what: &str, answer: &Answer<T>) {
    let signatures: Vec<String> = answer.signatures.iter().map(|s| s.describe()).collect();
    outln!("  {n}. {operation:<13} {actor}  {what}");
    outln!(
        "     {:<13} signatures verified: {}",
        "",
        if signatures.is_empty() {
            "none in the answer".to_owned()
        } else {
            signatures.join("; ")
        }
    );
}

/// A new key and self-signed certificate for a demo participant, written to
/// `<data>/demo/<mnemonic>.{key,cert}.pem` for experiments with `rsmev envelope sign`.
fn party(data_dir: &Path, mnemonic: &str, name: &str, organisation: &str) -> anyhow::Result<Party> {
    let (key, cert) = generate_self_signed(mnemonic, organisation, 30)
        .map_err(|e| anyhow!("generating the key of {mnemonic}: {e}"))?;
    let dir = data_dir.join("demo");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    super::keys::write_private(&dir.join(format!("{mnemonic}.key.pem")), &key)?;
    let cert_path: PathBuf = dir.join(format!("{mnemonic}.cert.pem"));
    std::fs::write(&cert_path, &cert).with_context(|| format!("writing {}", cert_path.display()))?;
    let certificate = Certificate::from_pem(&cert).context("reading a generated certificate")?;
    let signer = RingSigner::from_pem(&key, certificate).context("reading a generated key")?;
    Ok(Party {
        participant: Participant {
            mnemonic: Mnemonic::new(mnemonic)?,
            name: name.to_owned(),
            organisation: organisation.to_owned(),
            status: ParticipantStatus::Active,
            certificates: vec![cert],
        },
        signer,
    })
}

/// Registers the participants, the XSD set, both information types, the service and the grant,
/// through [`Admin`] as `rsmev participant|xsd|infotype|service|grant add` do. Replaces what an
/// earlier demo registered in the same data.
async fn register(
    admin: &Admin<'_>,
    data_dir: &Path,
    consumer: &Participant,
    provider: &Participant,
    federal: bool,
) -> anyhow::Result<()> {
    outln!("\nRegistry (as `rsmev participant|xsd|infotype|service|grant add` would do)");
    for p in [consumer, provider] {
        admin
            .put_participant(p, Mode::Upsert)
            .await
            .with_context(|| format!("registering {}", p.mnemonic))?;
        let cn = Certificate::from_pem(&p.certificates[0])
            .ok()
            .and_then(|c| {
                c.subject()
                    .split(',')
                    .find_map(|a| a.trim().strip_prefix("CN=").map(str::to_owned))
            })
            .unwrap_or_default();
        outln!(
            "  participant  {:<11} {}, a new certificate CN={cn}",
            p.mnemonic.as_str(),
            p.name
        );
    }
    let xsd_dir = data_dir.join("demo").join("xsd");
    std::fs::create_dir_all(&xsd_dir).with_context(|| format!("creating {}", xsd_dir.display()))?;
    std::fs::write(xsd_dir.join("inn.xsd"), DEMO_XSD).context("writing the demo XSD")?;
    admin
        .put_xsd_set(XSD_SET, &xsd_dir)
        .await
        .context("storing the demo XSD set")?;
    outln!("  xsd          {XSD_SET:<9} {}", xsd_dir.display());
    let provider_m = provider.mnemonic.clone();
    let request = QName::new(NAMESPACE, REQUEST_ROOT);
    let response = QName::new(NAMESPACE, RESPONSE_ROOT);
    for (qname, kind, description) in [
        (
            &request,
            InfoTypeKind::Request,
            "ИНН физического лица по СНИЛС: запрос",
        ),
        (
            &response,
            InfoTypeKind::Response,
            "ИНН физического лица по СНИЛС: ответ",
        ),
    ] {
        let t = InfoType {
            qname: qname.clone(),
            version: "1.0.0".into(),
            kind,
            provider: provider_m.clone(),
            xsd: Some(XSD_SET.into()),
            transaction_code_required: false,
            federal,
            max_size: None,
            description: description.into(),
        };
        admin
            .put_infotype(&t, Mode::Upsert)
            .await
            .with_context(|| format!("registering {qname}"))?;
        outln!(
            "  infotype     {qname} ({}, provider {provider_m}{})",
            kind.as_str(),
            if federal { ", federal" } else { "" }
        );
    }
    let service = Service {
        code: "demo-fns-inn".into(),
        provider: provider_m.clone(),
        description: "ИНН по СНИЛС (демо)".into(),
        infotypes: vec![request.clone(), response],
    };
    admin
        .put_service(&service, Mode::Upsert)
        .await
        .context("registering the demo service")?;
    outln!("  service      {} (provider {provider_m})", service.code);
    let grant = Grant {
        consumer: consumer.mnemonic.clone(),
        infotype: request,
    };
    admin.grant(&grant).await.context("granting the demo request")?;
    outln!("  grant        {} may send {}", grant.consumer, grant.infotype);
    Ok(())
}
