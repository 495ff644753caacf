//! What `ops` plugs into a node: the adapters (see `rsmev_broker::adapter`). `broker` knows
//! none of them by name; a new subsystem is one more line here. The integration tests start
//! their nodes with the same wiring.

use std::sync::Arc;

use rsmev_broker::adapter::Adapter;
use rsmev_broker::adapter::amqp_gateway::AmqpGateway;
use rsmev_broker::config::NodeConfig;
use rsmev_filestore::FileStore;
use rsmev_smev3::FederalLink;

/// The adapters `rsmev serve` runs for `config`, in start order: the AMQP gateway when
/// `[rabbitmq] url` is set, the federal link when `[federal] endpoint` is (unless
/// `[federal] run_in_serve` is false), the file storage when `[filestore] enabled` (the node
/// hands it to the exchange for `RefAttachmentHeader`s).
///
/// # Errors
/// An adapter's settings cannot be used (e.g. the federal link's key cannot be read), named.
pub fn adapters(config: &NodeConfig) -> Result<Vec<Arc<dyn Adapter>>, String> {
    let mut adapters: Vec<Arc<dyn Adapter>> = Vec::new();
    if let Some(gateway) = AmqpGateway::from_config(config) {
        adapters.push(Arc::new(gateway));
    }
    if config.federal.run_in_serve {
        adapters.extend(federal_link(config)?);
    }
    if let Some(files) = FileStore::from_config(config).map_err(|e| e.to_string())? {
        adapters.push(Arc::new(files));
    }
    Ok(adapters)
}

/// The federal link alone (`rsmev federal run`); none when `[federal] endpoint` is empty.
///
/// # Errors
/// As [`adapters`].
pub fn federal_link(config: &NodeConfig) -> Result<Option<Arc<dyn Adapter>>, String> {
    let link = FederalLink::from_config(config).map_err(|e| format!("[federal]: {e}"))?;
    Ok(link.map(|l| Arc::new(l) as Arc<dyn Adapter>))
}
