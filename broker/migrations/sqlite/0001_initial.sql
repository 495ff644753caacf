-- RSMEV embedded store (SQLite), schema version 1.
--
-- Conventions
--   * Times are UTC text in one fixed-width RFC 3339 form with nine fraction digits and `Z`
--     (`2025-05-01T09:30:00.000000000Z`): text order is time order, nanoseconds round-trip,
--     and an operator can read them in the sqlite3 shell. Days are `YYYY-MM-DD` (UTC).
--   * Message ids are lowercase hyphenated UUIDs.
--   * A qualified name is two columns, `*_ns` (namespace URI) and `*_local` (local name).
--   * Enumerations are stored as their `as_str()` text and checked here.
--
-- Registry: participants (+ participant_certificates, in registration order), infotypes,
-- services (+ service_infotypes, in listed order), grants, xsd_sets (+ xsd_files as blobs) and
-- the single-row registry_version counter that every registry write bumps in its transaction.
-- There are no foreign keys between registry entities: the registry is validated as a whole by
-- `Registry::validate`, and individual puts may arrive in any order.
--
-- Messages: one row per accepted message; the primary key on message_id is what makes a second
-- message with the same MessageID a duplicate (MessageIsAlreadySent).
--
-- Queue entries: one row per (owner, queue, message) still to be delivered. `seq` orders the
-- queue (FIFO); `lease_until` is set while a recipient holds the entry and is compared with the
-- caller's clock, so an expired lease needs no sweeper; `attempts` counts leases; `eol` copies
-- the message's EOL so the lease and expiry queries need no join. An Ack or an expiry deletes
-- the row: an entry that is gone is never delivered again.
--
-- History: append-only (triggers refuse UPDATE and DELETE), ordered by seq. message_id has no
-- foreign key: refused messages have history but no stored message.
--
-- Usage: counters per UTC day x sender x information type x kind, upserted by the accepting
-- transaction.

CREATE TABLE registry_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO registry_version (id, version) VALUES (1, 0);

CREATE TABLE participants (
    mnemonic     TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    organisation TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('active', 'blocked'))
);

CREATE TABLE participant_certificates (
    mnemonic TEXT    NOT NULL REFERENCES participants (mnemonic) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    pem      TEXT    NOT NULL,
    PRIMARY KEY (mnemonic, position)
);

CREATE TABLE infotypes (
    namespace                 TEXT    NOT NULL,
    local_name                TEXT    NOT NULL,
    version                   TEXT    NOT NULL,
    kind                      TEXT    NOT NULL CHECK (kind IN ('request', 'response', 'broadcast')),
    provider                  TEXT    NOT NULL,
    xsd                       TEXT,
    transaction_code_required INTEGER NOT NULL CHECK (transaction_code_required IN (0, 1)),
    max_size                  INTEGER,
    description               TEXT    NOT NULL,
    PRIMARY KEY (namespace, local_name)
);

CREATE TABLE services (
    code        TEXT PRIMARY KEY,
    provider    TEXT NOT NULL,
    description TEXT NOT NULL
);

CREATE TABLE service_infotypes (
    code       TEXT    NOT NULL REFERENCES services (code) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    namespace  TEXT    NOT NULL,
    local_name TEXT    NOT NULL,
    PRIMARY KEY (code, position)
);

CREATE TABLE grants (
    consumer   TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    local_name TEXT NOT NULL,
    PRIMARY KEY (consumer, namespace, local_name)
) WITHOUT ROWID;

CREATE TABLE xsd_sets (
    name TEXT PRIMARY KEY
);

CREATE TABLE xsd_files (
    set_name TEXT NOT NULL REFERENCES xsd_sets (name) ON DELETE CASCADE,
    path     TEXT NOT NULL,
    content  BLOB NOT NULL,
    PRIMARY KEY (set_name, path)
);

CREATE TABLE messages (
    message_id           TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL CHECK (kind IN ('request', 'broadcast', 'response')),
    sender               TEXT,
    qname_ns             TEXT,
    qname_local          TEXT,
    original_message_id  TEXT,
    reference_message_id TEXT,
    transaction_code     TEXT,
    eol                  TEXT,
    content              TEXT NOT NULL,
    sender_signature     TEXT,
    reply_to             TEXT,
    received_at          TEXT NOT NULL,
    CHECK ((qname_ns IS NULL) = (qname_local IS NULL))
);

-- Trace: the responses to a request.
CREATE INDEX messages_by_original ON messages (original_message_id)
    WHERE original_message_id IS NOT NULL;

CREATE TABLE queue_entries (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    owner          TEXT    NOT NULL,
    queue          TEXT    NOT NULL CHECK (queue IN ('requests', 'responses', 'statuses')),
    message_id     TEXT    NOT NULL REFERENCES messages (message_id),
    selector_ns    TEXT,
    selector_local TEXT,
    enqueued_at    TEXT    NOT NULL,
    lease_until    TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    eol            TEXT,
    UNIQUE (owner, queue, message_id),
    CHECK ((selector_ns IS NULL) = (selector_local IS NULL))
);

-- Lease without a selector, quota count, depths: walk one queue in FIFO order.
CREATE INDEX queue_entries_fifo ON queue_entries (owner, queue, seq);
-- Lease with a selector: walk only the matching entries, still in FIFO order.
CREATE INDEX queue_entries_by_selector
    ON queue_entries (owner, queue, selector_ns, selector_local, seq);
-- Ack: the owner's entries of one message.
CREATE INDEX queue_entries_by_message ON queue_entries (message_id, owner);
-- Expiry: entries in EOL order.
CREATE INDEX queue_entries_by_eol ON queue_entries (eol, seq) WHERE eol IS NOT NULL;

CREATE TABLE history (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL
);

CREATE INDEX history_by_message ON history (message_id, seq);

CREATE TRIGGER history_is_append_only_update BEFORE UPDATE ON history
BEGIN
    SELECT RAISE(ABORT, 'history is append-only');
END;

CREATE TRIGGER history_is_append_only_delete BEFORE DELETE ON history
BEGIN
    SELECT RAISE(ABORT, 'history is append-only');
END;

CREATE TABLE usage_counters (
    day         TEXT    NOT NULL,
    participant TEXT    NOT NULL,
    infotype    TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('request', 'broadcast', 'response')),
    count       INTEGER NOT NULL,
    PRIMARY KEY (day, participant, infotype, kind)
) WITHOUT ROWID;
