//! Command-line arguments of `rsmev`: the argument types only; what each command does is in
//! [`crate::commands`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use rsmev_gisgmp::{Bik, Kbk, KbkChapter, PayerIdentifier, PaymentId, Uin, Urn};
use rsmev_registry::{InfoTypeKind, Mnemonic, QName};

#[derive(Debug, Parser)]
#[command(
    name = "rsmev",
    version,
    about = "RSMEV: a regional interagency electronic exchange node (SMEV 3 compatible)"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the node: the SOAP endpoint /ws, queues, history, EOL expiry.
    Serve(ServeArgs),
    /// Start a throw-away node and run a signed request/response exchange through it, step by
    /// step, then show the message's trace. The first thing to run.
    Demo(DemoArgs),
    /// Measure the node: full signed exchanges over HTTP from parallel consumer/provider pairs,
    /// with throughput, latency, node CPU and memory, and baselines (crypto+XML floor, raw
    /// RabbitMQ) to compare with.
    Bench(BenchArgs),
    /// Participants (information systems) of the node.
    #[command(subcommand)]
    Participant(ParticipantCommand),
    /// Information types (виды сведений).
    #[command(subcommand)]
    Infotype(InfotypeCommand),
    /// XSD sets that information types are validated against.
    #[command(subcommand)]
    Xsd(XsdCommand),
    /// Electronic services.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Consumers' rights to send requests of an information type.
    #[command(subcommand)]
    Grant(GrantCommand),
    /// The whole registry as files (registry.toml and xsd/ folders) for review in git.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// The movement of a message and its responses, as a timeline.
    Trace(TraceArgs),
    /// Accounting reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Key pairs and certificates for participants and the node.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect, canonicalize and sign SMEV envelopes (signature diagnostics for integrators).
    #[command(subcommand)]
    Envelope(EnvelopeCommand),
    /// The node's configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The file storage for large attachments (`[filestore]`): who may upload.
    #[command(subcommand)]
    Filestore(FilestoreCommand),
    /// The link to the federal SMEV 3 (`[federal]`).
    #[command(subcommand)]
    Federal(FederalCommand),
    /// GIS GMP: UINs of charges, УПНО of accepted payments, what the ledger holds, payment
    /// receipts.
    #[command(subcommand)]
    Gisgmp(GisgmpCommand),
    /// The tamper-evident journal (`[journal]`).
    #[command(subcommand)]
    Journal(JournalCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum GisgmpCommand {
    /// Register the GIS GMP module on this node: its participant (with --cert) and the
    /// information types of the services it answers with it as provider, and grant the request
    /// types to --grant participants. What is registered already is kept.
    Register(GisgmpRegisterArgs),
    /// Run a node that answers as GIS GMP: `rsmev serve` with the GIS GMP module on, its key
    /// generated in the data directory on first start and its participant and types registered
    /// (as `rsmev gisgmp register`). For integrators and tests: the answers come from the module's
    /// own ledger and rules, reconciliation included.
    Emulate(GisgmpEmulateArgs),
    /// УИН, the identifiers a revenue administrator gives its charges.
    #[command(subcommand)]
    Uin(UinCommand),
    /// УПНО, the identifiers a payment acceptor gives the payments it accepts.
    #[command(subcommand)]
    Upno(UpnoCommand),
    /// List the charges the ledger holds (annulled ones with --annulled), filtered, sorted and
    /// paged: as an aligned table, CSV or JSON.
    Charges(ChargesArgs),
    /// List the payments the ledger holds, filtered, sorted and paged.
    Payments(PaymentsArgs),
    /// List the quittances (reconciliation results) of the charges the filters select, revoked
    /// ones too, sorted and paged.
    Quittances(QuittancesArgs),
    /// Print a charge's payment receipt as PDF: the bank-counter receipt ПД-4сб (налог) or the
    /// payment order 0401060, with the ГОСТ Р 56042-2014 QR code. The charge is one the ledger
    /// holds (--uin: its stored requisites, for the amount left to pay) or its requisites come
    /// from a JSON file (--json, see --help for its fields). A bad value is refused with its
    /// field named, a charge annulled or paid in full with that said (exit 1).
    Receipt(ReceiptArgs),
}

/// The output formats of the ledger's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ListFormat {
    /// Aligned columns under a header, amounts in roubles (`1200.50`), moments in Moscow time.
    Table,
    /// RFC 4180: a header line, CRLF line ends, fields with a comma, quote or line break
    /// quoted; every field of the record, amounts in kopecks.
    Csv,
    /// An array of objects, every field of the record under a stable name, amounts as integer
    /// kopecks, absent values null.
    Json,
}

/// Paging, order and output of a list.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Sort the other way: largest, latest, last first.
    #[arg(long)]
    pub desc: bool,
    /// Which page, from 1; standard error says when more follow.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_PAGE))]
    pub page: u64,
    /// Records a page, at most 1000.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=MAX_PAGE_SIZE))]
    pub page_size: u64,
    /// How to print.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Most records a page of a list holds (as in the admin API).
pub(crate) const MAX_PAGE_SIZE: u64 = rsmev_gisgmp::views::MAX_PAGE_SIZE;
/// The last page a list may ask for (so that the offset stays within a database's integers).
pub(crate) const MAX_PAGE: u64 = rsmev_gisgmp::views::MAX_PAGE;

/// What chooses charges (of `charges`, and whose quittances `quittances` lists).
#[derive(Debug, Args)]
pub(crate) struct ChargeFilterArgs {
    /// Charges of this administrator (the URN that formed them).
    #[arg(long, value_name = "URN", value_parser = parse_urn)]
    pub administrator: Option<Urn>,
    /// Charges of this payer identifier (22 characters); repeat for several.
    #[arg(long = "payer", value_name = "ID", value_parser = parse_payer)]
    pub payers: Vec<PayerIdentifier>,
    /// This charge; repeat for several.
    #[arg(long = "uin", value_name = "UIN", value_parser = parse_uin)]
    pub uins: Vec<Uin>,
    /// Charges with this acknowledgment status: 1 reconciled, 2 preliminarily reconciled, 3 not
    /// reconciled, 4 without a payment, 5 forced, 6 for an amount; repeat for several.
    #[arg(long = "status", value_name = "N", value_parser = clap::value_parser!(u8).range(1..=6))]
    pub statuses: Vec<u8>,
    /// Charges billed on this Moscow day or later (billDate).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub from: Option<time::Date>,
    /// Charges billed on this Moscow day or earlier.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub to: Option<time::Date>,
    /// Charges of at least this total amount, in kopecks.
    #[arg(long, value_name = "KOPECKS")]
    pub min_amount: Option<u64>,
    /// Charges of at most this total amount, in kopecks.
    #[arg(long, value_name = "KOPECKS")]
    pub max_amount: Option<u64>,
    /// Include annulled charges.
    #[arg(long)]
    pub annulled: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ChargesArgs {
    #[command(flatten)]
    pub filter: ChargeFilterArgs,
    /// Sort by (default: date, newest first; with --sort, smallest first unless --desc).
    #[arg(long, value_enum, value_name = "FIELD")]
    pub sort: Option<ChargeSortArg>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// What `charges --sort` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ChargeSortArg {
    /// billDate.
    Date,
    /// totalAmount.
    Amount,
    /// amountToPay.
    ToPay,
    Uin,
    /// The acknowledgment status.
    Status,
}

#[derive(Debug, Args)]
pub(crate) struct PaymentsArgs {
    /// Payments accepted by this participant (its URN).
    #[arg(long, value_name = "URN", value_parser = parse_urn)]
    pub acceptor: Option<Urn>,
    /// Payments of this payer identifier; repeat for several.
    #[arg(long = "payer", value_name = "ID", value_parser = parse_payer)]
    pub payers: Vec<PayerIdentifier>,
    /// Payments naming this UIN; repeat for several.
    #[arg(long = "uin", value_name = "UIN", value_parser = parse_uin)]
    pub uins: Vec<Uin>,
    /// This payment (УПНО); repeat for several.
    #[arg(long = "payment-id", value_name = "УПНО", value_parser = parse_payment_id)]
    pub payment_ids: Vec<PaymentId>,
    /// Payments made on this Moscow day or later (paymentDate).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub from: Option<time::Date>,
    /// Payments made on this Moscow day or earlier.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub to: Option<time::Date>,
    /// Only payments reconciled with no charge (and not annulled).
    #[arg(long)]
    pub unmatched: bool,
    /// Sort by (default: date, newest first; with --sort, smallest first unless --desc).
    #[arg(long, value_enum, value_name = "FIELD")]
    pub sort: Option<PaymentSortArg>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// What `payments --sort` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PaymentSortArg {
    /// paymentDate.
    Date,
    Amount,
    /// The УПНО.
    PaymentId,
    /// The UIN the payment names.
    Uin,
}

#[derive(Debug, Args)]
pub(crate) struct QuittancesArgs {
    #[command(flatten)]
    pub filter: ChargeFilterArgs,
    /// Sort by (default: date, newest first; with --sort, smallest first unless --desc).
    #[arg(long, value_enum, value_name = "FIELD")]
    pub sort: Option<QuittanceSortArg>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// What `quittances --sort` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum QuittanceSortArg {
    /// When the quittance first appeared (creationDate).
    Date,
    /// The charge's UIN.
    Uin,
    /// billStatus.
    Status,
    /// The payment's amount.
    Amount,
    /// The charge's balance after it.
    Balance,
}

#[derive(Debug, Args)]
pub(crate) struct GisgmpRegisterArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The module's participant (`[gisgmp] participant`).
    #[arg(long, value_parser = parse_mnemonic, default_value = "GISGMP")]
    pub participant: Mnemonic,
    /// PEM certificate the module signs with (`[gisgmp] cert`); needed when the participant is
    /// not registered yet.
    #[arg(long, value_name = "FILE.pem")]
    pub cert: Option<PathBuf>,
    /// A participant that may send the module every request type (repeatable).
    #[arg(long, value_name = "MNEMONIC", value_parser = parse_mnemonic)]
    pub grant: Vec<Mnemonic>,
    /// Mark the types federal, for a module that forwards to the federal GIS GMP
    /// (`[gisgmp] forward = true`): the module's own requests of them go to the federal link.
    /// Without it, types registered federal before are marked back.
    #[arg(long)]
    pub federal: bool,
}

#[derive(Debug, Args)]
pub(crate) struct GisgmpEmulateArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// The module's participant (default: `[gisgmp] participant`, else GISGMP).
    #[arg(long, value_parser = parse_mnemonic)]
    pub participant: Option<Mnemonic>,
    /// The URN the emulator answers as and issues ChargeCreation UINs under (default:
    /// `[gisgmp] urn`).
    #[arg(long, value_parser = parse_urn)]
    pub urn: Option<Urn>,
    /// A participant that may send the emulator every request type (repeatable).
    #[arg(long, value_name = "MNEMONIC", value_parser = parse_mnemonic)]
    pub grant: Vec<Mnemonic>,
}

#[derive(Debug, Args)]
#[command(after_long_help = RECEIPT_JSON_HELP)]
#[command(group(ArgGroup::new("charge").required(true).args(["uin", "json"])))]
pub(crate) struct ReceiptArgs {
    /// A charge the ledger holds, by its UIN: its stored requisites, for its amountToPay.
    #[arg(long, value_name = "UIN", value_parser = parse_uin, conflicts_with = "json")]
    pub uin: Option<Uin>,
    /// With --uin: the payee's bank (field 13) to print, in place of the charge's own
    /// (Bank@name, which some charges do not have).
    #[arg(long, value_name = "NAME", conflicts_with = "json")]
    pub bank_name: Option<String>,
    /// The charge's requisites: a JSON object, fields below.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Which form.
    #[arg(long, value_enum)]
    pub form: ReceiptForm,
    /// Where to write the PDF.
    #[arg(long, short, value_name = "FILE.pdf")]
    pub output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
    /// With --uin: where the ledger is.
    #[command(flatten)]
    pub data: DataArgs,
}

/// The forms of `rsmev gisgmp receipt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReceiptForm {
    /// ПД-4сб (налог): the bank-counter receipt, «Извещение» (with the QR code) and «Квитанция».
    Pd4,
    /// 0401060: the payment order.
    #[value(name = "0401060")]
    PaymentOrder,
}

/// The fields of `rsmev gisgmp receipt --json FILE`.
const RECEIPT_JSON_HELP: &str = "\
With --uin the charge is read from the ledger in the node's database (--data, --config,
--database): payee, INN, KPP, account, bank, BIK, ЕКС, KBK, OKTMO, purpose, payer and budget
fields from its stored document, the amount from its amountToPay. A charge that is annulled or
has nothing left to pay is refused.

With --json the file holds one object; identifiers are strings, the amount an integer. Optional
fields may be left out or null. The numbers are the fields of the payment order 0401060.

  payee_name             payee (16), at most 160 characters (and 300 bytes with the account,
                         bank and BIK in the QR code)
  payee_inn              payee's INN (61), its check digits checked
  payee_kpp              payee's KPP (103); optional
  payee_account          payee's treasury account (17), 20 digits: 03100…, 032x2…, 032x4…
  bank_name              payee's bank (13), at most 160 characters; the QR code carries its
                         first 45
  bik                    the bank's BIK (14)
  correspondent_account  the single treasury account, ЕКС (15): 40102…, keyed with the BIK
  kbk                    KBK (104); optional, \"0\" for none
  oktmo                  OKTMO (105); optional, \"0\" for none
  uin                    the charge's УИН (22 «Код»), 20 or 25 digits with a valid check digit
  amount                 the amount in kopecks (7), above zero
  purpose                purpose of payment (24), at most 210 characters, no '|'
  payer_name             payer (8), at most 160 characters
  payer_identifier       payer identifier, 22 characters; its INN and KPP, where it has them,
                         fill 60 and 102; optional
  payer_address          payer's address, at most 210 characters; optional
  budget_index           optional object of the budget fields as the charge has them:
                         status (101), payt_reason (106), tax_period (107),
                         tax_doc_number (108), tax_doc_date (109)
  bill_date              the charge's date, YYYY-MM-DD

Example:
  {\"payee_name\": \"ФГБУ «ФКП Росреестра» по г Москва\",
   \"payee_inn\": \"7705401340\", \"payee_kpp\": \"770542151\",
   \"payee_account\": \"03100643000000019500\",
   \"bank_name\": \"ОПЕРАЦИОННЫЙ ДЕПАРТАМЕНТ БАНКА РОССИИ//Межрегиональное операционное УФК\",
   \"bik\": \"024501901\", \"correspondent_account\": \"40102810045370000002\",
   \"kbk\": \"32111301031016000130\", \"oktmo\": \"45348000\",
   \"uin\": \"32116102414550976332\", \"amount\": 500000,
   \"purpose\": \"Плата за предоставление сведений из ЕГРН\",
   \"payer_name\": \"Петрова Мария Сергеевна\",
   \"payer_identifier\": \"1010000000003751379232\",
   \"payer_address\": \"г. Москва, ул. Тверская, д. 1, кв. 2\",
   \"budget_index\": {\"status\": \"24\", \"payt_reason\": \"0\", \"tax_period\": \"0\",
                    \"tax_doc_number\": \"0\", \"tax_doc_date\": \"0\"},
   \"bill_date\": \"2026-11-30\"}";

#[derive(Debug, Subcommand)]
pub(crate) enum UinCommand {
    /// Check a UIN as GIS GMP does: print its structure (exit 0), or the GIS GMP code and the
    /// reason, in English and in GIS GMP's Russian, when it would be refused (exit 1).
    Check(UinCheckArgs),
    /// Issue the next UINs of an administrator from its sequence in the node's database, one
    /// per line; no number is ever issued twice, also by several processes at once.
    Generate(UinGenerateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct UinCheckArgs {
    /// The UIN (20 or 25 digits).
    pub uin: String,
    /// The URN of the participant that formed the charge: the UIN must have 25 digits and start
    /// with it (codes 51, 10).
    #[arg(long, value_name = "URN", value_parser = parse_urn, conflicts_with = "kbk")]
    pub urn: Option<Urn>,
    /// The administrator's KBK chapter (3 digits) or the KBK of the charge (20 characters): the
    /// UIN must have 20 digits (code 51), start with that chapter and not be the KBK itself.
    #[arg(long, value_name = "KBK", value_parser = parse_kbk_arg)]
    pub kbk: Option<KbkArg>,
}

/// What `--kbk` names.
#[derive(Debug, Clone)]
pub(crate) enum KbkArg {
    Chapter(KbkChapter),
    Kbk(Kbk),
}

/// Whose UINs: one of `--urn`, `--kbk-chapter`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct UinPrefixArgs {
    /// The participant's URN (6 hex digits): 25-digit UINs led by it in decimal.
    #[arg(long, value_name = "URN", value_parser = parse_urn)]
    pub urn: Option<Urn>,
    /// The KBK chapter of a federal body or state off-budget fund: 20-digit UINs led by it.
    #[arg(long, value_name = "NNN", value_parser = parse_kbk_chapter)]
    pub kbk_chapter: Option<KbkChapter>,
}

#[derive(Debug, Args)]
pub(crate) struct UinGenerateArgs {
    #[command(flatten)]
    pub prefix: UinPrefixArgs,
    /// How many UINs.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_ISSUED))]
    pub count: u64,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Most identifiers one `generate` issues.
pub(crate) const MAX_ISSUED: u64 = 100_000;

#[derive(Debug, Subcommand)]
pub(crate) enum UpnoCommand {
    /// Issue the УПНО of the next payments an acceptor accepts on a day, from its sequence for
    /// that day in the node's database, one per line; never one twice.
    Generate(UpnoGenerateArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("acceptor").required(true).args(["bik", "tofk", "urn"])))]
pub(crate) struct UpnoGenerateArgs {
    /// A credit institution: the BIK of the bank or its branch (with --branch).
    #[arg(long, value_name = "BIK", value_parser = parse_bik, requires = "branch", conflicts_with_all = ["tofk", "urn"])]
    pub bik: Option<Bik>,
    /// The number of the bank's internal branch (ВСП), up to 6 digits.
    #[arg(long, value_name = "NNNNNN", requires = "bik")]
    pub branch: Option<u32>,
    /// A territorial body of the Federal Treasury, by its 4-digit code.
    #[arg(long, value_name = "CODE", conflicts_with = "urn")]
    pub tofk: Option<String>,
    /// Another participant accepting payments, by its URN.
    #[arg(long, value_name = "URN", value_parser = parse_urn)]
    pub urn: Option<Urn>,
    /// The acceptance date (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<time::Date>,
    /// How many УПНО.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=MAX_ISSUED))]
    pub count: u64,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum JournalCommand {
    /// Check the journal against the database's live rows: every chained history event and
    /// message hashed again, the chain recomputed, every checkpoint's signature checked. Names
    /// the first row changed, deleted, inserted or reordered; exits non-zero when anything is
    /// found. Needs no running node.
    Verify(JournalVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct JournalVerifyArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// A certificate (PEM or DER) checkpoints may also be signed with: each other node's on a
    /// shared database. The node's own (`[node] cert`, or `node-cert.pem` in the data
    /// directory) is always trusted.
    #[arg(long, value_name = "FILE")]
    pub cert: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FederalCommand {
    /// The link's state as recorded in the database by every node running it: up or down, the
    /// last error, the backlog of each direction (the link's queues on this node) and the
    /// requests that crossed it, by state.
    Status(DataArgs),
    /// Run the federal link alone, until SIGINT or SIGTERM: next to `rsmev serve` processes on
    /// the same PostgreSQL database (set `[federal] run_in_serve = false` for them), as many as
    /// wanted — no message crosses twice. The listener serves only /healthz, /readyz and
    /// /metrics. With the embedded store the link runs inside `rsmev serve` instead.
    Run(ServeArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum FilestoreCommand {
    /// Uploaders: participants that log in to the file storage's FTP server with their mnemonic
    /// and a password (only its salted hash is kept, in the node's database).
    #[command(subcommand)]
    User(FilestoreUserCommand),
    /// Print a file's GOST R 34.11-2012 (256-bit) hash as base64: the `Hash` of its
    /// `RefAttachmentHeader`.
    Hash(FilestoreHashArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FilestoreHashArgs {
    /// The file.
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum FilestoreUserCommand {
    /// Let a participant upload, or change its password. The password is read from
    /// --password-file, or from the first line of standard input (never from the command line,
    /// where other users of the machine could see it).
    Add(FilestoreUserAddArgs),
    /// Stop a participant from logging in (its files stay until their messages are done).
    Remove(FilestoreUserArgs),
    /// The participants that may upload.
    List(DataArgs),
}

#[derive(Debug, Args)]
pub(crate) struct FilestoreUserArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The participant's mnemonic (its FTP user name).
    pub mnemonic: String,
}

#[derive(Debug, Args)]
pub(crate) struct FilestoreUserAddArgs {
    #[command(flatten)]
    pub user: FilestoreUserArgs,
    /// A file whose first line is the password (`-` or absent: standard input).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a private key (PKCS#8 PEM) and a self-signed X.509 certificate (PEM).
    Generate(KeysGenerateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// Ed25519.
    Ed25519,
    /// GOST R 34.10-2012 with a 256-bit key and Streebog-256 (what SMEV participants use).
    #[value(name = "gost2012-256")]
    Gost2012_256,
}

#[derive(Debug, Args)]
pub(crate) struct KeysGenerateArgs {
    /// Signature algorithm of the key.
    #[arg(long, value_enum, default_value_t = KeyAlgorithm::EcdsaP256)]
    pub algorithm: KeyAlgorithm,
    /// GOST parameter set (with `--algorithm gost2012-256`): A, B, C, D (TC26 256-bit sets) or
    /// cp-a, cp-b, cp-c, cp-xcha, cp-xchb (CryptoPro sets). Default cp-a.
    #[arg(long)]
    pub paramset: Option<rsmev_broker::dsig::gost::ParamSet>,
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
pub(crate) enum EnvelopeCommand {
    /// Report every signature in a message; exit status 1 when any check fails.
    Verify(EnvelopeVerifyArgs),
    /// Print the canonical bytes a signature over the element with this Id hashes.
    C14n(EnvelopeC14nArgs),
    /// Sign the element with this Id and write the message with the signature.
    Sign(EnvelopeSignArgs),
}

#[derive(Debug, Args)]
pub(crate) struct EnvelopeVerifyArgs {
    /// The message (XML file; `-` for standard input).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct EnvelopeC14nArgs {
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
pub(crate) struct EnvelopeSignArgs {
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
pub(crate) enum ConfigCommand {
    /// Print the default configuration, with a comment on every value.
    Default,
    /// Print the configuration in force (defaults, then FILE, then RSMEV_* variables).
    Show {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Where the node's configuration and data are: the same layering as `rsmev serve` (defaults,
/// then FILE, then `RSMEV_*` variables, then these flags).
#[derive(Debug, Clone, Args)]
pub(crate) struct DataArgs {
    /// Configuration file (TOML).
    #[arg(long, value_name = "FILE", env = "RSMEV_CONFIG")]
    pub config: Option<PathBuf>,
    /// The node's data directory (overrides storage.data_dir).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Database URL (overrides storage.database): `postgres://user:password@host:5432/db`, or
    /// `sqlite:PATH`.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// RabbitMQ AMQP URL (overrides rabbitmq.url): `amqp://user:password@host:5672/vhost`.
    /// Needs a PostgreSQL database.
    #[arg(long, value_name = "URL")]
    pub rabbitmq: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on (overrides server.listen), e.g. 0.0.0.0:7575.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Log format (overrides log.format).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// Log filter (overrides log.level), e.g. `info` or `rsmev_broker=debug,info`.
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchStore {
    /// The embedded SQLite store in a temporary data directory.
    Sqlite,
    /// A fresh PostgreSQL database (see --postgres), dropped at the end.
    Postgres,
    /// PostgreSQL + RabbitMQ (the production backend): a fresh database and queues under a
    /// fresh name prefix on --amqp, both removed at the end.
    Rabbitmq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchPayload {
    /// A business document of about 1 KiB.
    #[value(name = "1k")]
    K1,
    /// A business document of about 16 KiB.
    #[value(name = "16k")]
    K16,
}

impl BenchPayload {
    pub(crate) fn bytes(self) -> usize {
        match self {
            BenchPayload::K1 => 1024,
            BenchPayload::K16 => 16 * 1024,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Consumer/provider pairs exchanging in parallel (one registered pair each).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub pairs: u16,
    /// Size of the business document of each request and response.
    #[arg(long, value_enum, default_value_t = BenchPayload::K1)]
    pub payload: BenchPayload,
    /// Run for SECS seconds (20 unless --count is given).
    #[arg(long, value_name = "SECS", conflicts_with = "count")]
    pub duration: Option<u64>,
    /// Run N exchanges in all.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Fixed-rate mode: start R exchanges per second in all (open loop), instead of each pair
    /// starting its next exchange when the last one ended.
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// A few seconds of tiny counts, for a CI smoke test; exits 1 on any error.
    #[arg(long)]
    pub quick: bool,
    /// The store of the node the bench starts.
    #[arg(long, value_enum, default_value_t = BenchStore::Sqlite)]
    pub store: BenchStore,
    /// PostgreSQL server for --store postgres (a database is created in it for the run).
    #[arg(
        long,
        value_name = "URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub postgres: String,
    /// Use the node running at URL instead of starting one; the pairs are registered in its data
    /// (--data DIR / --config FILE, as for the operator commands). No CPU or memory figures.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
    /// Providers call GetRequest without a MessageTypeSelector (each pair's provider has one
    /// information type, so the answer is the same). With --store rabbitmq, requests are then
    /// leased from their RabbitMQ copies, as responses always are, instead of from the database.
    #[arg(long)]
    pub no_selector: bool,
    /// Long-poll of GetRequest/GetResponse (`/ws?wait=N`), seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub wait: u64,
    /// Run the baselines (on by default unless --target).
    #[arg(long, overrides_with = "no_baselines")]
    pub baselines: bool,
    /// Skip the baselines.
    #[arg(long, overrides_with = "baselines")]
    pub no_baselines: bool,
    /// Seconds each baseline runs.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub baseline_secs: u64,
    /// RabbitMQ of the raw baseline.
    #[arg(
        long,
        value_name = "URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp: String,
    /// Output format of the report on standard output.
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    pub format: BenchFormat,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Measure the federal link: a second `rsmev serve` (embedded store, its own data) plays
    /// the federal SMEV 3. Consumers send to the node under test, whose link carries each
    /// request up and its answer back; providers work on the federal node. The node figures are
    /// the regional node's (the link runs in it).
    #[arg(long, conflicts_with = "target")]
    pub federal: bool,
    /// Measure the GIS GMP module's ledger instead of plain exchanges: the node runs the module,
    /// and --pairs senders each send packages of 100 charges, then their 100 payments
    /// (reconciled on arrival), waiting for each answer. --count counts charge+payment package
    /// pairs. Reports charges/s, reconciled payments/s, package latency and node CPU per entity.
    #[arg(long, conflicts_with_all = ["target", "federal", "rate"])]
    pub gisgmp: bool,
    /// With --federal: the link's rest between polls that found nothing, in milliseconds
    /// (`[federal] poll_interval_ms`).
    #[arg(long, value_name = "MS", default_value_t = 20, requires = "federal")]
    pub federal_poll_ms: u64,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Configuration file (TOML) for the demo node.
    #[arg(long, value_name = "FILE", env = "RSMEV_CONFIG")]
    pub config: Option<PathBuf>,
    /// Keep the node's data in DIR (created if absent) instead of a temporary directory removed
    /// at exit; `rsmev trace` and `rsmev report` can read it afterwards.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Use the node already running at URL (e.g. http://127.0.0.1:7575) instead of starting one.
    /// The demo registers its participants in that node's data: --data DIR, or storage.data_dir
    /// of the configuration (./rsmev-data by default).
    #[arg(long, value_name = "URL")]
    pub node: Option<String>,
    /// Two nodes: a second one plays the federal SMEV 3 with the provider on it, and the first
    /// node's federal link carries the request up and the answer back; the trace is shown on
    /// both. The federal node's data is kept in DIR/federal-node with --data.
    #[arg(long, conflicts_with = "node")]
    pub federal: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ParticipantCommand {
    /// Register a participant.
    Add(ParticipantArgs),
    /// Change a registered participant. Options not given keep their values.
    Update(ParticipantArgs),
    /// List the participants.
    List(DataArgs),
    /// Refuse every message the participant signs (SenderIsNotRegistered) until unblocked.
    Block(ParticipantRef),
    /// Let a blocked participant exchange messages again.
    Unblock(ParticipantRef),
    /// Give a participant the AMQP gateway: a RabbitMQ user that may read only its inbox
    /// and reply queues and publish only to the intake exchange, and those queues.
    AmqpSetup(AmqpSetupArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AmqpSetupArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The participant's mnemonic (registered on the node).
    #[arg(value_parser = parse_mnemonic)]
    pub mnemonic: Mnemonic,
    /// RabbitMQ management API (the rabbitmq_management plugin), where users and permissions
    /// are created.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:15672")]
    pub management_url: String,
    /// Administrator of the management API.
    #[arg(
        long,
        value_name = "USER",
        default_value = "guest",
        env = "RSMEV_RABBITMQ_MANAGEMENT_USER"
    )]
    pub management_user: String,
    #[arg(
        long,
        value_name = "PASSWORD",
        default_value = "guest",
        env = "RSMEV_RABBITMQ_MANAGEMENT_PASSWORD",
        hide_env_values = true
    )]
    pub management_password: String,
    /// Virtual host of the node's RabbitMQ URL.
    #[arg(long, default_value = "/")]
    pub vhost: String,
    /// The participant user's password. Default: a new random one, printed once.
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ParticipantArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Mnemonic: the participant's short unique name (ASCII letters, digits, `_`, `-`).
    #[arg(long, value_parser = parse_mnemonic)]
    pub mnemonic: Mnemonic,
    /// Human-readable name, shown to recipients.
    #[arg(long)]
    pub name: String,
    /// Organisation that runs the system (name, OGRN/INN).
    #[arg(long = "org", value_name = "ORG")]
    pub organisation: Option<String>,
    /// PEM file with the certificate(s) the participant signs with; repeat for more files. A
    /// message is attributed to the participant holding the certificate it was signed with.
    #[arg(long = "cert", value_name = "FILE.pem")]
    pub certificates: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ParticipantRef {
    #[command(flatten)]
    pub data: DataArgs,
    /// The participant's mnemonic.
    #[arg(value_parser = parse_mnemonic)]
    pub mnemonic: Mnemonic,
}

#[derive(Debug, Subcommand)]
pub(crate) enum InfotypeCommand {
    /// Register an information type.
    Add(InfotypeArgs),
    /// Replace a registered information type with the values given (omitted options take their
    /// defaults).
    Update(InfotypeArgs),
    /// List the information types.
    List(DataArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InfoTypeKindArg {
    /// A request, delivered to the provider.
    Request,
    /// A response, sent back with SendResponse.
    Response,
    /// A request delivered to every consumer granted the type.
    Broadcast,
}

impl From<InfoTypeKindArg> for InfoTypeKind {
    fn from(k: InfoTypeKindArg) -> InfoTypeKind {
        match k {
            InfoTypeKindArg::Request => InfoTypeKind::Request,
            InfoTypeKindArg::Response => InfoTypeKind::Response,
            InfoTypeKindArg::Broadcast => InfoTypeKind::Broadcast,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct InfotypeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Namespace URI of the business document's root element.
    #[arg(long, value_name = "URI")]
    pub namespace: String,
    /// Local name of the business document's root element.
    #[arg(long, value_name = "LOCAL")]
    pub root: String,
    #[arg(long, value_enum)]
    pub kind: InfoTypeKindArg,
    /// Mnemonic of the participant that serves the requests (sends the broadcasts, answers with
    /// the responses).
    #[arg(long, value_parser = parse_mnemonic)]
    pub provider: Mnemonic,
    /// Name of the XSD set (see `rsmev xsd add`) documents are validated against; none: no
    /// format control.
    #[arg(long, value_name = "SETNAME")]
    pub xsd: Option<String>,
    /// Version of the type, as registered (free text).
    #[arg(
        long = "version",
        value_name = "V",
        default_value = "",
        hide_default_value = true
    )]
    pub type_version: String,
    /// Requests of this type must carry a TransactionCode.
    #[arg(long)]
    pub transaction_code_required: bool,
    /// Served by the federal SMEV 3: requests pass every local check here and the federal link
    /// sends them upstream. The provider is then the participant the link acts as
    /// (`[federal] participant`).
    #[arg(long)]
    pub federal: bool,
    /// Largest accepted business document, in bytes (default: the node's limit).
    #[arg(long, value_name = "BYTES")]
    pub max_size: Option<u64>,
    #[arg(long, value_name = "TEXT", default_value = "", hide_default_value = true)]
    pub description: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum XsdCommand {
    /// Store a folder of XSD files as a named set, after checking that it compiles.
    ///
    /// Each `.xsd` directly in DIR is an entry point, one per target namespace; schemas they
    /// import or include (by paths relative to the importing file) go in subfolders.
    Add(XsdAddArgs),
    /// List the XSD sets.
    List(DataArgs),
}

#[derive(Debug, Args)]
pub(crate) struct XsdAddArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Name of the set, as information types name it in --xsd.
    #[arg(long, value_name = "SET")]
    pub name: String,
    /// Folder holding the .xsd files.
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// Register an electronic service.
    Add(ServiceArgs),
    /// Replace a registered service with the values given.
    Update(ServiceArgs),
    /// List the services.
    List(DataArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServiceArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Unique code of the service, e.g. `fns-inn`.
    #[arg(long)]
    pub code: String,
    #[arg(long, value_parser = parse_mnemonic)]
    pub provider: Mnemonic,
    /// An information type of the provider, as `{namespace}local`; repeat for more.
    #[arg(long = "infotype", value_name = "{NS}LOCAL", value_parser = parse_qname)]
    pub infotypes: Vec<QName>,
    #[arg(long, value_name = "TEXT", default_value = "", hide_default_value = true)]
    pub description: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GrantCommand {
    /// Allow a consumer to send requests of an information type (or receive a broadcast type).
    Add(GrantArgs),
    /// Withdraw a grant.
    Remove(GrantArgs),
    /// List the grants.
    List(DataArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GrantArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long, value_parser = parse_mnemonic)]
    pub consumer: Mnemonic,
    #[command(flatten)]
    pub infotype: InfoTypeRef,
}

/// An information type named either as `--infotype '{ns}local'` or as `--namespace` + `--root`.
#[derive(Debug, Args)]
pub(crate) struct InfoTypeRef {
    /// The information type, as `{namespace}local`.
    #[arg(
        long,
        value_name = "{NS}LOCAL",
        value_parser = parse_qname,
        required_unless_present_all = ["namespace", "root"],
        conflicts_with_all = ["namespace", "root"]
    )]
    pub infotype: Option<QName>,
    /// Namespace URI of the type (with --root, instead of --infotype).
    #[arg(long, value_name = "URI", requires = "root")]
    pub namespace: Option<String>,
    /// Root element local name of the type (with --namespace).
    #[arg(long, value_name = "LOCAL", requires = "namespace")]
    pub root: Option<String>,
}

impl InfoTypeRef {
    pub(crate) fn qname(&self) -> QName {
        match (&self.infotype, &self.namespace, &self.root) {
            (Some(q), _, _) => q.clone(),
            (None, ns, root) => QName::new(ns.clone().unwrap_or_default(), root.clone().unwrap_or_default()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// Write registry.toml and xsd/<set>/ files into DIR.
    Export(RegistryDirArgs),
    /// Replace the whole registry with the one in DIR, after checking all of it.
    Import(RegistryDirArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RegistryDirArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The registry folder.
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TraceFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The MessageID of a request (or of any message).
    pub message_id: uuid::Uuid,
    #[arg(long, value_enum, default_value_t = TraceFormat::Text)]
    pub format: TraceFormat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Messages accepted per participant × information type × kind × day.
    Usage(UsageArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct UsageArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// First day (UTC), YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub from: time::Date,
    /// Last day (UTC, included), YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub to: time::Date,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

fn parse_urn(s: &str) -> Result<Urn, String> {
    Urn::parse(s).map_err(|e| e.to_string())
}

fn parse_kbk_chapter(s: &str) -> Result<KbkChapter, String> {
    KbkChapter::parse(s).map_err(|e| e.to_string())
}

fn parse_kbk_arg(s: &str) -> Result<KbkArg, String> {
    if s.chars().count() == 3 {
        parse_kbk_chapter(s).map(KbkArg::Chapter)
    } else {
        Kbk::parse(s)
            .map(KbkArg::Kbk)
            .map_err(|e| format!("{e} (or pass a KBK chapter of 3 digits)"))
    }
}

fn parse_uin(s: &str) -> Result<Uin, String> {
    Uin::parse(s).map_err(|e| e.to_string())
}

fn parse_payer(s: &str) -> Result<PayerIdentifier, String> {
    PayerIdentifier::parse(s).map_err(|e| e.to_string())
}

fn parse_payment_id(s: &str) -> Result<PaymentId, String> {
    PaymentId::parse(s).map_err(|e| e.to_string())
}

fn parse_bik(s: &str) -> Result<Bik, String> {
    Bik::parse(s).map_err(|e| e.to_string())
}

fn parse_mnemonic(s: &str) -> Result<Mnemonic, String> {
    Mnemonic::new(s).map_err(|e| e.to_string())
}

/// Reads `{namespace}local` (Clark notation), as `rsmev … list` prints information types.
pub(crate) fn parse_qname(s: &str) -> Result<QName, String> {
    let bad = || format!("`{s}` is not `{{namespace}}local`, e.g. '{{urn://example/1.0}}Request'");
    let rest = s.strip_prefix('{').ok_or_else(bad)?;
    let (ns, local) = rest.split_once('}').ok_or_else(bad)?;
    if ns.is_empty() || local.is_empty() || local.contains(['{', '}', ':']) {
        return Err(bad());
    }
    Ok(QName::new(ns, local))
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("`{s}` is not a date YYYY-MM-DD: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qnames_are_read_in_clark_notation() {
        assert_eq!(
            parse_qname("{urn://x/1.0}Req"),
            Ok(QName::new("urn://x/1.0", "Req"))
        );
        for bad in ["Req", "{urn}", "{}Req", "urn}Req", "{urn}a:b"] {
            assert!(parse_qname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_argument_definitions_are_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }
}
