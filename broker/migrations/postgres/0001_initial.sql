-- RSMEV production store (PostgreSQL), schema version 1. The same tables, keys and rules as the
-- embedded SQLite schema (migrations/sqlite/0001_initial.sql); only the types differ.
--
-- Conventions
--   * Instants are UTC text in one fixed-width RFC 3339 form with nine fraction digits and `Z`
--     (`2025-05-01T09:30:00.000000000Z`), exactly as on SQLite: text order is time order,
--     nanoseconds round-trip (timestamptz keeps microseconds only, and the store's contract
--     returns every instant as it was given), and `at::timestamptz` turns one into a timestamp
--     for an operator's query. Every text column uses the "C" collation, so ordering and
--     comparison are bytewise whatever the database's locale: time order for instants, and the
--     same order as the SQLite store (and Rust's `Ord`) for names.
--   * Days are `date`; message ids are `uuid`; booleans are `boolean`; file contents `bytea`.
--   * A qualified name is two columns, `*_ns` (namespace URI) and `*_local` (local name).
--   * Enumerations are stored as their `as_str()` text and checked here.
--
-- Registry: participants (+ participant_certificates, in registration order), infotypes,
-- services (+ service_infotypes, in listed order), grants, xsd_sets (+ xsd_files) and the
-- single-row registry_version counter. Every registry write updates that row *first*, so its
-- row lock serializes registry writes across nodes and the counter tells every node's cache
-- that something changed.
--
-- Messages: one row per accepted message; the primary key on message_id is what makes a second
-- message with the same MessageID a duplicate (MessageIsAlreadySent), also between nodes.
--
-- Queue entries: one row per (owner, queue, message) still to be delivered. `seq` orders the
-- queue (FIFO). It comes from an identity sequence without a per-session cache (keep it so:
-- a cache would hand each session its own range), drawn while the accepting transaction holds
-- the queue's advisory lock, so within a queue `seq` order is commit order, whichever node
-- accepted. `lease_until` is set while a recipient holds the entry and is compared with the
-- caller's clock; `attempts` counts leases; `eol` copies the message's EOL. An Ack or an expiry
-- deletes the row: an entry that is gone is never delivered again.
--
-- History: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE), ordered by seq.
-- message_id has no foreign key: refused messages have history but no stored message.
--
-- Usage: counters per UTC day x sender x information type x kind, upserted by the accepting
-- transaction.

CREATE TABLE registry_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO registry_version (id, version) VALUES (1, 0);

CREATE TABLE participants (
    mnemonic     text COLLATE "C" PRIMARY KEY,
    name         text COLLATE "C" NOT NULL,
    organisation text COLLATE "C" NOT NULL,
    status       text COLLATE "C" NOT NULL CHECK (status IN ('active', 'blocked'))
);

CREATE TABLE participant_certificates (
    mnemonic text COLLATE "C" NOT NULL REFERENCES participants (mnemonic) ON DELETE CASCADE,
    position bigint           NOT NULL,
    pem      text COLLATE "C" NOT NULL,
    PRIMARY KEY (mnemonic, position)
);

CREATE TABLE infotypes (
    namespace                 text COLLATE "C" NOT NULL,
    local_name                text COLLATE "C" NOT NULL,
    version                   text COLLATE "C" NOT NULL,
    kind                      text COLLATE "C" NOT NULL
        CHECK (kind IN ('request', 'response', 'broadcast')),
    provider                  text COLLATE "C" NOT NULL,
    xsd                       text COLLATE "C",
    transaction_code_required boolean          NOT NULL,
    max_size                  bigint,
    description               text COLLATE "C" NOT NULL,
    PRIMARY KEY (namespace, local_name)
);

CREATE TABLE services (
    code        text COLLATE "C" PRIMARY KEY,
    provider    text COLLATE "C" NOT NULL,
    description text COLLATE "C" NOT NULL
);

CREATE TABLE service_infotypes (
    code       text COLLATE "C" NOT NULL REFERENCES services (code) ON DELETE CASCADE,
    position   bigint           NOT NULL,
    namespace  text COLLATE "C" NOT NULL,
    local_name text COLLATE "C" NOT NULL,
    PRIMARY KEY (code, position)
);

CREATE TABLE grants (
    consumer   text COLLATE "C" NOT NULL,
    namespace  text COLLATE "C" NOT NULL,
    local_name text COLLATE "C" NOT NULL,
    PRIMARY KEY (consumer, namespace, local_name)
);

CREATE TABLE xsd_sets (
    name text COLLATE "C" PRIMARY KEY
);

CREATE TABLE xsd_files (
    set_name text COLLATE "C" NOT NULL REFERENCES xsd_sets (name) ON DELETE CASCADE,
    path     text COLLATE "C" NOT NULL,
    content  bytea            NOT NULL,
    PRIMARY KEY (set_name, path)
);

CREATE TABLE messages (
    message_id           uuid PRIMARY KEY,
    -- Arrival order, for listing a request's responses (ties of received_at).
    arrival              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    kind                 text COLLATE "C" NOT NULL
        CHECK (kind IN ('request', 'broadcast', 'response')),
    sender               text COLLATE "C",
    qname_ns             text COLLATE "C",
    qname_local          text COLLATE "C",
    original_message_id  uuid,
    reference_message_id uuid,
    transaction_code     text COLLATE "C",
    eol                  text COLLATE "C",
    content              text COLLATE "C" NOT NULL,
    sender_signature     text COLLATE "C",
    reply_to             text COLLATE "C",
    received_at          text COLLATE "C" NOT NULL,
    CHECK ((qname_ns IS NULL) = (qname_local IS NULL))
);

-- Trace: the responses to a request.
CREATE INDEX messages_by_original ON messages (original_message_id)
    WHERE original_message_id IS NOT NULL;

CREATE TABLE queue_entries (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner          text COLLATE "C" NOT NULL,
    queue          text COLLATE "C" NOT NULL CHECK (queue IN ('requests', 'responses', 'statuses')),
    message_id     uuid             NOT NULL REFERENCES messages (message_id),
    selector_ns    text COLLATE "C",
    selector_local text COLLATE "C",
    enqueued_at    text COLLATE "C" NOT NULL,
    lease_until    text COLLATE "C",
    attempts       integer          NOT NULL DEFAULT 0,
    eol            text COLLATE "C",
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
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id uuid             NOT NULL,
    at         text COLLATE "C" NOT NULL,
    event      text COLLATE "C" NOT NULL,
    actor      text COLLATE "C" NOT NULL,
    detail     text COLLATE "C" NOT NULL
);

CREATE INDEX history_by_message ON history (message_id, seq);

CREATE FUNCTION history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only';
END;
$$;

CREATE TRIGGER history_is_append_only_rows BEFORE UPDATE OR DELETE ON history
    FOR EACH ROW EXECUTE FUNCTION history_is_append_only();

CREATE TRIGGER history_is_append_only_truncate BEFORE TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION history_is_append_only();

CREATE TABLE usage_counters (
    day         date             NOT NULL,
    participant text COLLATE "C" NOT NULL,
    infotype    text COLLATE "C" NOT NULL,
    kind        text COLLATE "C" NOT NULL CHECK (kind IN ('request', 'broadcast', 'response')),
    count       bigint           NOT NULL,
    PRIMARY KEY (day, participant, infotype, kind)
);
