//! Command-line arguments of `rsmev`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "rsmev",
    version,
    about = "RSMEV: a regional interagency electronic exchange node (SMEV 3 compatible)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Key pairs and certificates for participants and the node.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect, canonicalize and sign SMEV envelopes (signature diagnostics for integrators).
    #[command(subcommand)]
    Envelope(EnvelopeCommand),
    /// The node's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a private key (PKCS#8 PEM) and a self-signed X.509 certificate (PEM).
    Generate(KeysGenerateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// Ed25519.
    Ed25519,
}

#[derive(Debug, Args)]
pub struct KeysGenerateArgs {
    /// Signature algorithm of the key.
    #[arg(long, value_enum, default_value_t = KeyAlgorithm::EcdsaP256)]
    pub algorithm: KeyAlgorithm,
    /// Subject common name (CN) of the certificate, e.g. the participant's mnemonic.
    #[arg(long)]
    pub cn: String,
    /// Subject organization (O).
    #[arg(long, default_value = "")]
    pub org: String,
    /// Days the certificate is valid, from now.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Where to write the private key.
    #[arg(long, default_value = "key.pem")]
    pub key_out: PathBuf,
    /// Where to write the certificate.
    #[arg(long, default_value = "cert.pem")]
    pub cert_out: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum EnvelopeCommand {
    /// Report every signature in a message; exit status 1 when any check fails.
    Verify(EnvelopeVerifyArgs),
    /// Print the canonical bytes a signature over the element with this Id hashes.
    C14n(EnvelopeC14nArgs),
    /// Sign the element with this Id and write the message with the signature.
    Sign(EnvelopeSignArgs),
}

#[derive(Debug, Args)]
pub struct EnvelopeVerifyArgs {
    /// The message (XML file; `-` for standard input).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct EnvelopeC14nArgs {
    /// The message (XML file; `-` for standard input).
    pub file: PathBuf,
    /// The Id attribute value of the element.
    #[arg(long)]
    pub id: String,
    /// Apply the SMEV transform (urn://smev-gov-ru/xmldsig/transform) after exclusive c14n.
    #[arg(long)]
    pub smev_transform: bool,
}

#[derive(Debug, Args)]
pub struct EnvelopeSignArgs {
    /// The message (XML file; `-` for standard input).
    pub file: PathBuf,
    /// The Id attribute value of the element to sign.
    #[arg(long)]
    pub id: String,
    /// PKCS#8 PEM private key.
    #[arg(long)]
    pub key: PathBuf,
    /// PEM (or DER) X.509 certificate of the key.
    #[arg(long)]
    pub cert: PathBuf,
    /// Apply the SMEV transform after exclusive c14n (as SMEV clients do).
    #[arg(long)]
    pub smev_transform: bool,
    /// Write the signed message here instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the default configuration, with a comment on every value.
    Default,
    /// Print the configuration in force (defaults, then FILE, then RSMEV_* variables).
    Show {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}
