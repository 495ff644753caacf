//! The RSMEV exchange engine.
//!
//! Layout (each module's own `//!` says more):
//! - [`config`]: the node's configuration, layered defaults → file → `RSMEV_*` env → flags.
//! - [`xml`]: a hardened XML reader that builds a small read-only tree with byte spans, exclusive
//!   canonicalization ([`xml::c14n`]) and the SMEV transform ([`xml::transform`]).
//! - [`envelope`]: the SMEV 3 message exchange 1.3 messages, their SOAP 1.1 codec and the typed
//!   faults; signed blocks and `xs:any` content keep their original bytes.
//! - [`dsig`]: XMLDSig as SMEV uses it: signing and verifying detached signatures over one
//!   element by `Id`, certificates, the `Signer`/`Verifier` provider traits, diagnostics.
//! - [`schema`]: format control, XSD validation of business content through libxml2 (the crate's
//!   one FFI boundary), with every violation and its position.
//! - [`exchange`]: the unified electronic service: the six operations, the intake pipeline with
//!   every 1.3 fault, delivery with lease/Ack/redelivery, EOL expiry.
//! - [`files`]: the seam to a file storage for large attachments (`RefAttachmentHeader` in,
//!   `FSAttachment` out), which an adapter provides.
//! - [`node`]: a running node: store, node key, exchange, background work, listener, adapters.
//! - [`adapter`]: the contract through which subsystems (the AMQP gateway here; the federal link
//!   and GIS GMP in `adapters/`) join a node as participants, with their own tables.
//! - [`amqp`]: names and declare options of the node's RabbitMQ objects (transport and gateway).
//! - [`api`]: the HTTP interface (SOAP `/ws`, JSON `/api/v1`, admin, metrics, health).
//! - [`admin`]: registry administration shared by the CLI and the admin API.
//! - [`store`]: the system of record (registry, messages, queues, history, accounting) behind the
//!   [`store::Store`] trait (writes) and [`store::Queries`] (reads); SQLite is the embedded
//!   default, PostgreSQL with an optional RabbitMQ transport ([`store::rabbit`]) serves several
//!   nodes.
pub mod adapter;
pub mod admin;
pub mod amqp;
pub mod api;
pub mod config;
pub mod dsig;
pub mod envelope;
pub mod exchange;
pub mod files;
pub mod node;
pub mod schema;
pub mod store;
pub mod xml;
