//! Verification: the journal and the live rows of the node's tables, compared from the first
//! entry on. It needs the database and the certificates checkpoints may be signed with, and
//! nothing of a running node.
//!
//! Every entry's chain hash is recomputed from the one before (a changed, removed or moved
//! journal row breaks it); the history events and messages are walked in their own order beside
//! the journal's entries of their kind (a merge), each row hashed again: a row whose hash differs
//! is *changed* — or *reordered* when its content is the one the journal recorded for another
//! row; a journal entry without its row is *deleted*; a row before the last chained one that the
//! journal never saw is *inserted*. Checkpoints must match the recomputed chain at their
//! position and carry a valid signature by a trusted certificate; a checkpoint beyond the
//! journal's end shows that entries were cut off. The walk stops at the first discrepancy of
//! the entries, which is what is reported.

use std::collections::{HashMap, VecDeque};

use rsmev_broker::dsig::{Certificate, SignatureAlgorithm, VerifierRegistry};
use rsmev_broker::store::{AdapterDatabase, Backend};
use sqlx::{Any, Transaction};

use crate::hash::{self, Algorithm, GENESIS, Hash};
use crate::store::{self, Checkpoint, JournalError, Kind, SourceRow};

/// Rows read at once.
const PAGE: i64 = 5000;

/// A row of the node's tables, as a finding names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRef {
    pub kind: Kind,
    /// `history.seq`, or the message's arrival order.
    pub order: i64,
    /// The message id.
    pub key: String,
}

impl std::fmt::Display for RowRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            Kind::History => write!(f, "history event seq {} (message {})", self.order, self.key),
            Kind::Message => write!(f, "message {} (arrival {})", self.key, self.order),
        }
    }
}

impl From<&SourceRow> for RowRef {
    fn from(r: &SourceRow) -> RowRef {
        RowRef {
            kind: r.kind,
            order: r.order,
            key: r.key.clone(),
        }
    }
}

/// A discrepancy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// The row's content is not what was chained at `position`.
    Changed { position: i64, row: RowRef },
    /// The row chained at `position` is gone.
    Deleted { position: i64, row: RowRef },
    /// A row older than the journal's entry at `before` that was never chained.
    Inserted { before: i64, row: RowRef },
    /// The row chained at `position` holds the content chained at `content_of` for another row.
    Reordered {
        position: i64,
        row: RowRef,
        content_of: i64,
        content_of_row: RowRef,
    },
    /// The journal's own rows were changed at `position`: the chain does not follow.
    JournalAltered { position: i64, problem: String },
    /// A checkpoint's chain hash is not the chain at its position (the journal was rewritten
    /// before it).
    CheckpointMismatch { position: i64 },
    /// A checkpoint's signature does not verify, or its certificate is not trusted.
    CheckpointSignature { position: i64, problem: String },
    /// A checkpoint beyond the journal's last entry: entries were removed from its end.
    CheckpointBeyondEnd { position: i64, entries: i64 },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Changed { position, row } => write!(
                f,
                "changed: {row}, journal entry {position}: its content differs from what was chained"
            ),
            Finding::Deleted { position, row } => {
                write!(f, "deleted: {row}, journal entry {position}: the row is gone")
            }
            Finding::Inserted { before, row } => write!(
                f,
                "inserted: {row} was never chained, yet it is older than journal entry {before}"
            ),
            Finding::Reordered {
                position,
                row,
                content_of,
                content_of_row,
            } => write!(
                f,
                "reordered: {row}, journal entry {position}, holds the content chained for {content_of_row} at entry {content_of}"
            ),
            Finding::JournalAltered { position, problem } => {
                write!(f, "journal altered at entry {position}: {problem}")
            }
            Finding::CheckpointMismatch { position } => write!(
                f,
                "checkpoint at entry {position} does not match the chain: the journal was rewritten before it"
            ),
            Finding::CheckpointSignature { position, problem } => {
                write!(f, "checkpoint at entry {position}: {problem}")
            }
            Finding::CheckpointBeyondEnd { position, entries } => write!(
                f,
                "checkpoint at entry {position} but the journal ends at entry {entries}: entries were removed from its end"
            ),
        }
    }
}

/// What verification found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// `None` when nothing was ever chained.
    pub algorithm: Option<Algorithm>,
    /// Entries checked (up to the first discrepancy).
    pub entries: i64,
    pub checkpoints: usize,
    /// The position of the last checkpoint: entries after it are protected by the chain only.
    pub last_checkpoint: Option<i64>,
    /// Rows after the journal's last entry of their kind (not chained yet).
    pub unchained_history: i64,
    pub unchained_messages: i64,
    /// The first discrepancy of the entries, then any of the checkpoints.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether nothing was found.
    pub fn is_intact(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Walks the rows of one kind in order, a page at a time.
struct Cursor {
    kind: Kind,
    buffered: VecDeque<SourceRow>,
    after: i64,
    exhausted: bool,
}

impl Cursor {
    fn new(kind: Kind) -> Cursor {
        Cursor {
            kind,
            buffered: VecDeque::new(),
            // Below every key, so that a forged row with key 0 or less is seen too.
            after: i64::MIN,
            exhausted: false,
        }
    }

    async fn peek(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        algorithm: Algorithm,
    ) -> Result<Option<&SourceRow>, JournalError> {
        if self.buffered.is_empty() && !self.exhausted {
            let rows =
                store::source_rows(tx, backend, algorithm, self.kind, self.after, i64::MAX, PAGE).await?;
            match rows.last() {
                None => self.exhausted = true,
                Some(last) => self.after = last.order,
            }
            self.buffered.extend(rows);
        }
        Ok(self.buffered.front())
    }
}

/// Checks the journal of `db` against its live rows. `trusted`: the certificates checkpoints
/// may be signed with (the node's; with several nodes, each one's). `progress` is told the
/// entries checked so far, after each page.
///
/// # Errors
/// [`JournalError`] when the database cannot be read or a journal row cannot be decoded (a
/// discrepancy is a [`Finding`] in the report, not an error).
pub async fn verify(
    db: &AdapterDatabase,
    trusted: &[Certificate],
    progress: &mut (dyn FnMut(i64) + Send),
) -> Result<Report, JournalError> {
    let backend = db.backend();
    // One snapshot for the whole walk, so a running node's new rows do not move under it.
    let mut tx = match backend {
        Backend::Sqlite => db.pool().begin().await?,
        Backend::Postgres => {
            db.pool()
                .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .await?
        }
    };
    let mut report = Report::default();
    let Some(algorithm) = store::stored_algorithm(&mut *tx).await? else {
        return Ok(report);
    };
    report.algorithm = Some(algorithm);
    let checkpoints = store::checkpoints(&mut *tx).await?;
    report.checkpoints = checkpoints.len();
    report.last_checkpoint = checkpoints.last().map(|c| c.position);
    let wanted: HashMap<i64, usize> = checkpoints
        .iter()
        .enumerate()
        .map(|(i, c)| (c.position, i))
        .collect();
    let mut chain_at: HashMap<i64, Hash> = HashMap::new();

    let mut history = Cursor::new(Kind::History);
    let mut messages = Cursor::new(Kind::Message);
    let mut last_order: HashMap<Kind, i64> = HashMap::new();
    let mut previous = GENESIS;
    let mut position = 0;
    let mut finding = None;
    'walk: loop {
        let page = store::entries(&mut *tx, position, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for e in page {
            let expected = position + 1;
            if e.position != expected {
                finding = Some(Finding::JournalAltered {
                    position: expected,
                    problem: format!("the entry is missing (the next one is {})", e.position),
                });
                break 'walk;
            }
            let computed = hash::chain(
                algorithm,
                &previous,
                e.position,
                e.kind.as_str(),
                e.order,
                &e.key,
                &e.entry_hash,
            );
            if computed != e.chain_hash {
                finding = Some(Finding::JournalAltered {
                    position: e.position,
                    problem: "its chain hash does not follow from the entries before it".into(),
                });
                break 'walk;
            }
            if last_order.get(&e.kind).is_some_and(|&o| e.order <= o) {
                finding = Some(Finding::JournalAltered {
                    position: e.position,
                    problem: format!("its {} row comes out of order", e.kind.as_str()),
                });
                break 'walk;
            }
            last_order.insert(e.kind, e.order);
            let cursor = match e.kind {
                Kind::History => &mut history,
                Kind::Message => &mut messages,
            };
            let chained = RowRef {
                kind: e.kind,
                order: e.order,
                key: e.key.clone(),
            };
            let row = match cursor.peek(&mut tx, backend, algorithm).await? {
                Some(r) if r.order < e.order => {
                    finding = Some(Finding::Inserted {
                        before: e.position,
                        row: r.into(),
                    });
                    break 'walk;
                }
                Some(r) if r.order == e.order => r.clone(),
                _ => {
                    finding = Some(Finding::Deleted {
                        position: e.position,
                        row: chained,
                    });
                    break 'walk;
                }
            };
            if row.key != e.key || row.hash != e.entry_hash {
                finding = Some(match store::entry_with_hash(&mut *tx, e.kind, &row.hash).await? {
                    Some((other, other_order)) if other != e.position => {
                        let other_key = store::entries(&mut *tx, other - 1, 1)
                            .await?
                            .into_iter()
                            .next()
                            .map(|o| o.key)
                            .unwrap_or_default();
                        Finding::Reordered {
                            position: e.position,
                            row: (&row).into(),
                            content_of: other,
                            content_of_row: RowRef {
                                kind: e.kind,
                                order: other_order,
                                key: other_key,
                            },
                        }
                    }
                    _ => Finding::Changed {
                        position: e.position,
                        row: (&row).into(),
                    },
                });
                break 'walk;
            }
            cursor.buffered.pop_front();
            previous = computed;
            position = e.position;
            if wanted.contains_key(&position) {
                chain_at.insert(position, computed);
            }
        }
        progress(position);
    }
    report.entries = position;
    let walked_all = finding.is_none();
    report.findings.extend(finding);
    if walked_all {
        report.unchained_history = store::count_after(
            &mut *tx,
            backend,
            Kind::History,
            last_order.get(&Kind::History).copied().unwrap_or(i64::MIN),
        )
        .await?;
        report.unchained_messages = store::count_after(
            &mut *tx,
            backend,
            Kind::Message,
            last_order.get(&Kind::Message).copied().unwrap_or(i64::MIN),
        )
        .await?;
    }
    tx.commit().await?;

    let registry = VerifierRegistry::default();
    for c in &checkpoints {
        if let Some(problem) = checkpoint_problem(&registry, trusted, algorithm, c) {
            report.findings.push(Finding::CheckpointSignature {
                position: c.position,
                problem,
            });
        } else if let Some(chain) = chain_at.get(&c.position) {
            if *chain != c.chain_hash {
                report
                    .findings
                    .push(Finding::CheckpointMismatch { position: c.position });
            }
        } else if walked_all && c.position > report.entries {
            report.findings.push(Finding::CheckpointBeyondEnd {
                position: c.position,
                entries: report.entries,
            });
        }
    }
    Ok(report)
}

/// Why a checkpoint's signature does not count, if it does not.
fn checkpoint_problem(
    registry: &VerifierRegistry,
    trusted: &[Certificate],
    algorithm: Algorithm,
    c: &Checkpoint,
) -> Option<String> {
    if c.algorithm != algorithm.as_str() {
        return Some(format!(
            "names the algorithm {:?}, the journal's is {}",
            c.algorithm,
            algorithm.as_str()
        ));
    }
    let certificate = match Certificate::from_pem(&c.certificate) {
        Ok(cert) => cert,
        Err(e) => return Some(format!("its certificate cannot be read: {e}")),
    };
    if !trusted.iter().any(|t| t.der() == certificate.der()) {
        return Some(format!(
            "signed by `{}`, which is not a trusted certificate (the node's, or one given with --cert)",
            certificate.subject()
        ));
    }
    let Some(signature_algorithm) = SignatureAlgorithm::from_uri(&c.signature_algorithm) else {
        return Some(format!("unknown signature algorithm {}", c.signature_algorithm));
    };
    let text = Checkpoint::signed_text(&c.algorithm, c.position, &c.chain_hash, &c.at);
    match registry.verify(signature_algorithm, &certificate, text.as_bytes(), &c.signature) {
        Ok(()) => None,
        Err(e) => Some(format!("the signature does not verify: {e}")),
    }
}
