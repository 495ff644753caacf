//! What `ops` plugs into a node: the adapters (see `rsmev_broker::adapter`). `broker` knows
//! none of them by name; a new subsystem is one more line here. The integration tests start
//! their nodes with the same wiring.

use std::sync::Arc;

use rsmev_broker::adapter::Adapter;
use rsmev_broker::adapter::amqp_gateway::AmqpGateway;
use rsmev_broker::config::NodeConfig;
use rsmev_filestore::FileStore;
use rsmev_gisgmp::module::GisgmpModule;
use rsmev_journal::JournalAdapter;
use rsmev_smev3::FederalLink;

/// The adapters `rsmev serve` runs for `config`, in start order: the AMQP gateway when
/// `[rabbitmq] url` is set, the federal link when `[federal] endpoint` is (unless
/// `[federal] run_in_serve` is false), the file storage when `[filestore] enabled` (the node
/// hands it to the exchange for `RefAttachmentHeader`s), the GIS GMP module when `[gisgmp]
/// participant` is set, the journal's chainer when `[journal] enabled` (signing checkpoints
/// with the node's key, read when it starts).
///
/// # Errors
/// An adapter's settings cannot be used (e.g. the federal link's key cannot be read), named.
pub fn adapters(config: &NodeConfig) -> Result<Vec<Arc<dyn Adapter>>, String> {
    let mut adapters: Vec<Arc<dyn Adapter>> = Vec::new();
    if let Some(gateway) = AmqpGateway::from_config(config) {
        adapters.push(Arc::new(gateway));
    }
    if config.federal.run_in_serve
        && let Some(link) = FederalLink::from_config(config).map_err(|e| format!("[federal]: {e}"))?
    {
        adapters.push(Arc::new(link));
    }
    if let Some(files) = FileStore::from_config(config).map_err(|e| e.to_string())? {
        adapters.push(Arc::new(files));
    }
    if let Some(module) = GisgmpModule::from_config(config).map_err(|e| format!("[gisgmp]: {e}"))? {
        adapters.push(Arc::new(module));
    }
    if let Some(journal) = JournalAdapter::from_config(config).map_err(|e| format!("[journal]: {e}"))? {
        adapters.push(Arc::new(journal));
    }
    Ok(adapters)
}

/// The federal link alone (`rsmev federal run`), with the file storage as a seam only when
/// `[filestore] enabled` (the serve processes serve it; the link's messages still reference
/// files through it); none when `[federal] endpoint` is empty.
///
/// # Errors
/// As [`adapters`].
pub fn federal_link(config: &NodeConfig) -> Result<Option<Vec<Arc<dyn Adapter>>>, String> {
    let Some(link) = FederalLink::from_config(config).map_err(|e| format!("[federal]: {e}"))? else {
        return Ok(None);
    };
    let mut adapters: Vec<Arc<dyn Adapter>> = vec![Arc::new(link)];
    if let Some(files) = FileStore::from_config(config).map_err(|e| e.to_string())? {
        adapters.push(Arc::new(files.seam_only()));
    }
    Ok(Some(adapters))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration with the federal link (its key in `dir`) and, when `files`, the file
    /// storage.
    fn config(dir: &std::path::Path, files: bool) -> NodeConfig {
        let (key, cert) = rsmev_broker::node::generate_self_signed("REGION", "wiring test", 1).expect("key");
        std::fs::write(dir.join("key.pem"), key).expect("key file");
        std::fs::write(dir.join("cert.pem"), cert).expect("cert file");
        let mut c = NodeConfig::default();
        c.storage.data_dir = dir.to_owned();
        c.federal.endpoint = "http://127.0.0.1:9/ws".into();
        c.federal.key = dir.join("key.pem").display().to_string();
        c.federal.cert = dir.join("cert.pem").display().to_string();
        c.filestore.enabled = files;
        c
    }

    #[test]
    fn the_link_alone_consults_the_file_storage_without_serving_it() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let names = |adapters: &[Arc<dyn Adapter>]| adapters.iter().map(|a| a.name()).collect::<Vec<_>>();

        let alone = federal_link(&config(dir.path(), false))
            .expect("wiring")
            .expect("a link");
        assert_eq!(names(&alone), ["smev3"]);

        // With [filestore]: the exchange of `rsmev federal run` can check and grant file
        // references (the link carries files), through the storage the serve processes serve.
        let with_files = federal_link(&config(dir.path(), true))
            .expect("wiring")
            .expect("a link");
        assert_eq!(names(&with_files), ["smev3", "filestore"]);
        assert!(with_files[1].file_storage().is_some());

        let mut unconfigured = config(dir.path(), true);
        unconfigured.federal.endpoint.clear();
        assert!(federal_link(&unconfigured).expect("wiring").is_none());
    }

    #[test]
    fn the_journal_runs_unless_disabled_and_refuses_an_unknown_algorithm() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut c = NodeConfig::default();
        c.storage.data_dir = dir.path().to_owned();
        let names = |c: &NodeConfig| {
            adapters(c)
                .expect("wiring")
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&c), ["journal"]);
        // The node's key is read when the chainer starts: wiring a node that then cannot
        // start (a taken port) leaves no key behind.
        assert!(!dir.path().join("node-key.pem").exists());
        c.journal.algorithm = "md5".into();
        assert!(adapters(&c).expect_err("refused").contains("[journal]"));
        c.journal.enabled = false;
        assert!(names(&c).is_empty());
    }
}
