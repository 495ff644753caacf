//! Files across the federal link: both nodes run a file storage (FTP); attachments referenced by
//! `RefAttachmentHeader` on one side are downloaded with the `FSAttachment` credentials on the
//! other, byte for byte, in all four directions of the link. The files are put and taken with a
//! real FTP client (suppaftp) and hashed here with the `streebog` crate, not the node's code.
//!
//! Upstream the link logs in to the federal storage as `REGION`; here it logs in to the regional
//! storage as its participant `SMEV3` (`rsmev filestore user add SMEV3`).

use std::net::SocketAddr;
use std::time::Duration;

use rsmev_broker::config::NodeConfig;
use rsmev_broker::envelope::{FsAttachment, ResponseContent};
use rsmev_broker::store::{AdapterDatabase, EventKind, Location};
use suppaftp::FtpStream;

use crate::backend::Backend;
use crate::federal::{
    Federation, eventually, registry_request, registry_request_payload, registry_response_payload,
};
use crate::files::{
    blocking, download, enable_filestore, file_bytes, gost_hash, new_dir, reference_to, upload,
};
use crate::harness::{
    NodeOptions, answer, delivered, delivered_response, inn_request, inn_request_payload,
    inn_response_payload,
};

on_every_backend! {
    files_cross_the_link_both_ways_for_a_federal_request_and_its_answer,
    files_of_a_federal_request_to_a_regional_provider_and_of_its_answer_cross_the_link,
    a_file_from_upstream_whose_bytes_are_not_those_its_hash_names_refuses_the_request,
    without_an_upstream_storage_a_request_with_files_is_rejected_to_its_sender,
}

const MFC_FTP: &str = "mfc-ftp-password";
const AGENCY_FTP: &str = "agency-ftp-password";
const LINK_FTP: &str = "smev3-ftp-password";
const FNS_FTP: &str = "fns-ftp-password";
const EPGU_FTP: &str = "epgu-ftp-password";
const REGION_FTP: &str = "region-ftp-password";

/// The federation with a file storage on each node, and the uploaders of each.
struct FileFederation {
    f: Federation,
    federal_ftp: SocketAddr,
    region_ftp: SocketAddr,
    /// The federal storage's directory of files.
    federal_root: std::path::PathBuf,
    _passwords: tempfile::TempDir,
}

/// What `rsmev filestore user add` does, on the node's database.
async fn add_uploaders(config: &NodeConfig, users: &[(&str, &str)]) {
    let location = Location::parse(&config.storage.database, &config.storage.data_dir).unwrap();
    let db = AdapterDatabase::open(&location).await.unwrap();
    db.migrate(rsmev_filestore::NAME, rsmev_filestore::MIGRATIONS)
        .await
        .unwrap();
    for (user, password) in users {
        rsmev_filestore::set_uploader_password(&db, user, password)
            .await
            .unwrap();
    }
    db.close().await;
}

/// Waits until the storage at `addr` answers.
async fn listening(addr: SocketAddr) {
    crate::harness::eventually(100, Duration::from_millis(100), || async move {
        blocking(move || {
            FtpStream::connect(addr).ok().map(|mut s| {
                let _ = s.quit();
            })
        })
        .await
    })
    .await
    .expect("the file storage listens");
}

/// Which storages the link knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LinkStorages {
    Both,
    /// `[federal] files_address` empty.
    LocalOnly,
}

async fn start(backend: Backend) -> FileFederation {
    start_with(backend, LinkStorages::Both).await
}

async fn start_with(backend: Backend, storages: LinkStorages) -> FileFederation {
    let passwords = tempfile::tempdir().unwrap();
    let upstream_password = passwords.path().join("region-ftp");
    let local_password = passwords.path().join("smev3-ftp");
    // Written as an operator would, with a final newline.
    std::fs::write(&upstream_password, format!("{REGION_FTP}\n")).unwrap();
    std::fs::write(&local_password, format!("{LINK_FTP}\n")).unwrap();

    // The federal storage's address, known before either node starts: the link names it.
    let mut federal_storage = NodeConfig::default();
    let federal_ftp = enable_filestore(&mut federal_storage, 64 << 20);
    let mut federal_config = None;
    let (mut region_config, mut region_ftp) = (None, None);
    let f = Federation::start_tweaked(
        backend,
        &[],
        NodeOptions::default(),
        |c| {
            c.filestore = federal_storage.filestore.clone();
            federal_config = Some(c.clone());
        },
        |c| {
            let ftp = enable_filestore(c, 64 << 20);
            region_ftp = Some(ftp);
            if storages == LinkStorages::Both {
                c.federal.files_address = federal_ftp.to_string();
                c.federal.files_user = "REGION".into();
                c.federal.files_password_file = upstream_password.display().to_string();
            }
            c.federal.local_files_password_file = local_password.display().to_string();
            region_config = Some(c.clone());
        },
    )
    .await;
    let federal_config = federal_config.unwrap();
    let federal_root = federal_config.storage.data_dir.join("files");
    add_uploaders(
        &federal_config,
        &[("FNS", FNS_FTP), ("EPGU", EPGU_FTP), ("REGION", REGION_FTP)],
    )
    .await;
    add_uploaders(
        &region_config.unwrap(),
        &[("MFC", MFC_FTP), ("AGENCY", AGENCY_FTP), ("SMEV3", LINK_FTP)],
    )
    .await;
    let region_ftp = region_ftp.unwrap();
    listening(federal_ftp).await;
    listening(region_ftp).await;
    FileFederation {
        f,
        federal_ftp,
        region_ftp,
        federal_root,
        _passwords: passwords,
    }
}

fn one(attachments: &[FsAttachment]) -> &FsAttachment {
    match attachments {
        [one] => one,
        other => panic!("one FSAttachment expected: {other:?}"),
    }
}

/// An answer whose content carries `headers`.
fn answer_with(payload: &str, refs: Vec<rsmev_broker::envelope::RefAttachmentHeader>) -> ResponseContent {
    match answer(payload) {
        ResponseContent::Answer {
            primary_content,
            personal_signature,
            attachment_headers,
            ..
        } => ResponseContent::Answer {
            primary_content,
            personal_signature,
            attachment_headers,
            ref_attachment_headers: refs,
        },
        other => other,
    }
}

async fn files_cross_the_link_both_ways_for_a_federal_request_and_its_answer(backend: Backend) {
    let ff = start(backend).await;
    let f = &ff.f;
    let mfc = f.region.client(&f.mfc);
    let fns = f.federal.client(&f.fns);

    // The regional consumer uploads a scan to the regional storage and references it.
    let scan = file_bytes(256 * 1024, 11);
    let dir = new_dir();
    upload(ff.region_ftp, "MFC", MFC_FTP, &dir, "scan.pdf", scan.clone())
        .await
        .unwrap();
    let sent = mfc
        .send_request_with(&inn_request_payload("12345678901", "1990-01-02"), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("scan.pdf"), &gost_hash(&scan))];
        })
        .await;
    let id = sent.accepted().message_id.clone().unwrap();

    // The federal provider gets it with an FSAttachment of the federal storage: same directory,
    // same bytes.
    let got = eventually("the request upstream", || async {
        let a = fns.get_request(Some(&inn_request())).await;
        a.request().is_some().then_some(a)
    })
    .await;
    let request = delivered(&got);
    assert_eq!(request.sender_provided.message_id, id);
    let [header] = request.sender_provided.ref_attachment_headers.as_slice() else {
        panic!("one RefAttachmentHeader upstream");
    };
    assert_eq!(
        (header.uuid.as_str(), header.hash.clone()),
        (dir.as_str(), gost_hash(&scan))
    );
    let fs = one(&request.fs_attachments);
    assert_eq!(fs.uuid, dir);
    assert_eq!(download(ff.federal_ftp, fs).await, Ok(scan.clone()));
    let reply_to = request.reply_to.clone().unwrap();
    fns.ack(&id).await.expect_ack();

    // The federal provider answers with a file of its own (no FileName: the only file of its
    // directory); the regional consumer downloads it from the regional storage.
    let extract = file_bytes(100 * 1024, 12);
    let answer_dir = new_dir();
    upload(
        ff.federal_ftp,
        "FNS",
        FNS_FTP,
        &answer_dir,
        "extract.xml",
        extract.clone(),
    )
    .await
    .unwrap();
    fns.send_response(
        &reply_to,
        answer_with(
            &inn_response_payload("7701234567"),
            vec![reference_to(&answer_dir, None, &gost_hash(&extract))],
        ),
    )
    .await
    .accepted();
    let back = eventually("the answer on the regional node", || async {
        let a = mfc.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&back);
    assert_eq!(response.original_message_id.as_ref(), Some(&id));
    match &response.sender_provided.content {
        ResponseContent::Answer {
            ref_attachment_headers,
            ..
        } => {
            let [h] = ref_attachment_headers.as_slice() else {
                panic!("one RefAttachmentHeader here: {ref_attachment_headers:?}");
            };
            assert_eq!(
                (h.uuid.as_str(), h.hash.clone()),
                (answer_dir.as_str(), gost_hash(&extract))
            );
        }
        other => panic!("an answer expected: {other:?}"),
    }
    let fs = one(&response.fs_attachments);
    assert_eq!(
        (fs.uuid.as_str(), fs.file_name.as_str()),
        (answer_dir.as_str(), "/extract.xml")
    );
    assert_eq!(download(ff.region_ftp, fs).await, Ok(extract));
    ff.f.shutdown().await;
}

async fn files_of_a_federal_request_to_a_regional_provider_and_of_its_answer_cross_the_link(
    backend: Backend,
) {
    let ff = start(backend).await;
    let f = &ff.f;
    let epgu = f.federal.client(&f.epgu);
    let agency = f.region.client(&f.agency);

    // A federal consumer sends the regional provider a file through the federal storage.
    let application = file_bytes(150 * 1024, 21);
    let dir = new_dir();
    upload(
        ff.federal_ftp,
        "EPGU",
        EPGU_FTP,
        &dir,
        "application.pdf",
        application.clone(),
    )
    .await
    .unwrap();
    let sent = epgu
        .send_request_with(&registry_request_payload("7"), |d| {
            d.ref_attachment_headers = vec![reference_to(
                &dir,
                Some("application.pdf"),
                &gost_hash(&application),
            )];
        })
        .await;
    let id = sent.accepted().message_id.clone().unwrap();

    // Here it arrives from the link with an FSAttachment of the regional storage.
    let got = eventually("the request on the regional node", || async {
        let a = agency.get_request(Some(&registry_request())).await;
        a.request().is_some().then_some(a)
    })
    .await;
    let request = delivered(&got);
    assert_eq!(request.sender_provided.message_id, id);
    let fs = one(&request.fs_attachments);
    assert_eq!(
        (fs.uuid.as_str(), fs.file_name.as_str()),
        (dir.as_str(), "/application.pdf")
    );
    assert_eq!(download(ff.region_ftp, fs).await, Ok(application));
    let reply_to = request.reply_to.clone().unwrap();
    agency.ack(&id).await.expect_ack();

    // The regional provider answers with a file; the federal consumer gets it from the federal
    // storage.
    let certificate = file_bytes(80 * 1024, 22);
    let answer_dir = new_dir();
    upload(
        ff.region_ftp,
        "AGENCY",
        AGENCY_FTP,
        &answer_dir,
        "certificate.pdf",
        certificate.clone(),
    )
    .await
    .unwrap();
    let answered = agency
        .send_response(
            &reply_to,
            answer_with(
                &registry_response_payload("7"),
                vec![reference_to(
                    &answer_dir,
                    Some("certificate.pdf"),
                    &gost_hash(&certificate),
                )],
            ),
        )
        .await;
    let response_id = answered.accepted().message_id.clone().unwrap();
    let back = eventually("the answer upstream", || async {
        let a = epgu.get_response(None).await;
        a.response().is_some().then_some(a)
    })
    .await;
    let response = delivered_response(&back);
    assert_eq!(response.sender_provided.message_id, response_id);
    let fs = one(&response.fs_attachments);
    assert_eq!(fs.uuid, answer_dir);
    assert_eq!(download(ff.federal_ftp, fs).await, Ok(certificate));
    let events = eventually("the answer forwarded in the regional history", || async {
        let events = f.region.store().history(response_id.to_uuid()).await.ok()?;
        events
            .iter()
            .any(|e| e.event == EventKind::Forwarded)
            .then_some(events)
    })
    .await;
    assert!(
        events.iter().all(|e| e.event != EventKind::Upstream),
        "{events:?}"
    );
    ff.f.shutdown().await;
}

async fn a_file_from_upstream_whose_bytes_are_not_those_its_hash_names_refuses_the_request(backend: Backend) {
    let ff = start(backend).await;
    let f = &ff.f;
    let epgu = f.federal.client(&f.epgu);
    let agency = f.region.client(&f.agency);

    // The federal storage recorded the hash at upload; the bytes on its disk change afterwards
    // (the federal intake never reads the file), so the link downloads other bytes.
    let application = file_bytes(40 * 1024, 31);
    let dir = new_dir();
    upload(
        ff.federal_ftp,
        "EPGU",
        EPGU_FTP,
        &dir,
        "application.pdf",
        application.clone(),
    )
    .await
    .unwrap();
    let on_disk = ff.federal_root.join(&dir).join("application.pdf");
    assert_eq!(std::fs::read(&on_disk).unwrap(), application);
    let altered = file_bytes(40 * 1024, 32);
    std::fs::write(&on_disk, &altered).unwrap();
    let sent = epgu
        .send_request_with(&registry_request_payload("8"), |d| {
            d.ref_attachment_headers = vec![reference_to(
                &dir,
                Some("application.pdf"),
                &gost_hash(&application),
            )];
        })
        .await;
    let id = sent.accepted().message_id.clone().unwrap();

    // The federal consumer is told, like for any request the regional node refuses.
    let (code, text) = crate::federal::rejection_of(&epgu, &id).await;
    assert_eq!(
        code,
        rsmev_broker::envelope::RejectionReasonCode::Failure,
        "{text}"
    );
    assert!(
        text.contains("could not cross") && text.contains(&gost_hash(&altered)),
        "{text}"
    );
    // Nothing reached the regional provider.
    let nothing = agency.get_request(Some(&registry_request())).await;
    assert!(nothing.request().is_none(), "the refused request was delivered");
    ff.f.shutdown().await;
}

async fn without_an_upstream_storage_a_request_with_files_is_rejected_to_its_sender(backend: Backend) {
    let ff = start_with(backend, LinkStorages::LocalOnly).await;
    let f = &ff.f;
    let mfc = f.region.client(&f.mfc);
    let scan = file_bytes(20 * 1024, 41);
    let dir = new_dir();
    upload(ff.region_ftp, "MFC", MFC_FTP, &dir, "scan.pdf", scan.clone())
        .await
        .unwrap();
    let sent = mfc
        .send_request_with(&inn_request_payload("12345678901", "1990-01-02"), |d| {
            d.ref_attachment_headers = vec![reference_to(&dir, Some("scan.pdf"), &gost_hash(&scan))];
        })
        .await;
    let id = sent.accepted().message_id.clone().unwrap();
    let (_, text) = crate::federal::rejection_of(&mfc, &id).await;
    assert!(text.contains("files_address"), "{text}");
    let events = f.region.history(id.as_str()).await;
    assert!(events.contains(&EventKind::Upstream), "{events:?}");
    assert!(!events.contains(&EventKind::Forwarded), "{events:?}");
    // Nothing went upstream.
    let fns = f.federal.client(&f.fns);
    let nothing = fns.get_request(Some(&inn_request())).await;
    assert!(
        nothing.request().is_none(),
        "the request went upstream without its file"
    );
    ff.f.shutdown().await;
}
