//! What `ops` plugs into a node: the adapters (see `rsmev_broker::adapter`). `broker` knows
//! none of them by name; a new subsystem is one more line here.

use std::sync::Arc;

use rsmev_broker::adapter::Adapter;
use rsmev_broker::adapter::amqp_gateway::AmqpGateway;
use rsmev_broker::config::NodeConfig;

/// The adapters `config` asks for, in start order: the AMQP gateway when `[rabbitmq] url` is set.
pub(crate) fn adapters(config: &NodeConfig) -> Vec<Arc<dyn Adapter>> {
    let mut adapters: Vec<Arc<dyn Adapter>> = Vec::new();
    if let Some(gateway) = AmqpGateway::from_config(config) {
        adapters.push(Arc::new(gateway));
    }
    adapters
}
