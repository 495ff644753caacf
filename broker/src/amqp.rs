//! The names and declare options of everything the node puts in RabbitMQ, shared by the queue
//! transport ([`crate::store::rabbit`]) and the AMQP gateway ([`crate::adapter::amqp_gateway`]):
//! one durable direct exchange for copies, durable quorum queues per participant and kind, the
//! gateway's intake, inbox and reply queues. A leaf: it knows queue kinds and mnemonics only.

use lapin::options::{ExchangeDeclareOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use rsmev_registry::Mnemonic;

use crate::store::QueueKind;

/// Options of every exchange the node declares: durable.
pub fn durable_exchange() -> ExchangeDeclareOptions {
    ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    }
}

/// Options of every queue the node declares: durable (and [`quorum`]).
pub fn durable_queue() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

/// Arguments of every queue the node declares: a quorum queue (replicated by Raft).
pub fn quorum() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    arguments
}

/// The names the node gives its exchange and queues; see the README's production section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub prefix: String,
}

impl Topology {
    /// The direct exchange every copy is published to: `<prefix>.deliver`.
    pub fn exchange(&self) -> String {
        format!("{}.deliver", self.prefix)
    }

    /// A participant's incoming queue: `<prefix>.<mnemonic>.<requests|responses|statuses>`, a
    /// durable quorum queue bound to the exchange with the routing key `<mnemonic>.<kind>`.
    pub fn queue(&self, owner: &Mnemonic, kind: QueueKind) -> String {
        format!("{}.{}.{}", self.prefix, owner.as_str(), kind.as_str())
    }

    /// The AMQP gateway's intake: a fanout exchange and the quorum queue bound to it, both
    /// `<prefix>.intake`.
    pub fn intake(&self) -> String {
        format!("{}.intake", self.prefix)
    }

    /// Where the AMQP gateway delivers a participant's messages: `<prefix>.<mnemonic>.inbox`.
    pub fn inbox(&self, participant: &Mnemonic) -> String {
        format!("{}.{}.inbox", self.prefix, participant.as_str())
    }

    /// Where the AMQP gateway answers a participant's envelopes: `<prefix>.<mnemonic>.replies`.
    pub fn replies(&self, participant: &Mnemonic) -> String {
        format!("{}.{}.replies", self.prefix, participant.as_str())
    }

    /// Every queue and exchange the node may have declared for `owners` (the transport's and the
    /// AMQP gateway's): what a clean-up deletes.
    pub fn everything_for(&self, owners: &[Mnemonic]) -> (Vec<String>, Vec<String>) {
        let mut queues = vec![self.intake()];
        for owner in owners {
            queues.extend(QueueKind::ALL.map(|kind| self.queue(owner, kind)));
            queues.push(self.inbox(owner));
            queues.push(self.replies(owner));
        }
        (queues, vec![self.exchange(), self.intake()])
    }

    pub fn routing_key(owner: &Mnemonic, kind: QueueKind) -> String {
        format!("{}.{}", owner.as_str(), kind.as_str())
    }
}

/// Deletes every queue and exchange under `topology` for `owners`
/// ([`Topology::everything_for`]): the clean-up of a test or benchmark run. Queues that do not
/// exist are no error.
///
/// # Errors
/// RabbitMQ is unreachable or refuses.
pub async fn delete_everything(
    url: &str,
    topology: &Topology,
    owners: &[Mnemonic],
) -> Result<(), lapin::Error> {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let connection = lapin::Connection::connect(url, lapin::ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let (queues, exchanges) = topology.everything_for(owners);
    for queue in queues {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await?;
    }
    for exchange in exchanges {
        channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await?;
    }
    let _ = connection.close(200, "deleted".into()).await;
    Ok(())
}
