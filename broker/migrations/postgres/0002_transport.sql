-- Schema version 2: the RabbitMQ transport's transactional outbox (see broker/src/rabbit).
--
-- PostgreSQL stays the system of record: a queue entry is delivered, acked or expired only by a
-- transaction on queue_entries, exactly as without RabbitMQ. RabbitMQ carries *copies* of
-- entries ("transport copies") to the participants' quorum queues, and a copy is only a hint:
-- whoever takes one leases the entry it names with a conditional update, so a copy that arrives
-- twice, late, or after the entry was acked does nothing.
--
--   transport       generation of the entry's newest copy (0: none yet). A copy carries the
--                   generation it was made with; an older one is stale and discarded.
--   transport_live  a copy of that generation is in the outbox or in RabbitMQ and has not been
--                   taken yet. Cleared when a copy is taken; the redelivery scan makes a new
--                   copy once the entry's lease has run out.
--   transport_at    when the newest copy was made (a live copy older than the configured
--                   republish time is made again, in case RabbitMQ lost it).
--
-- outbox: copies still to be published, written in the transaction that creates the entry or
-- schedules its redelivery, deleted once RabbitMQ has confirmed them. A node that dies between
-- the confirm and the delete leaves a row that is published again: harmless, see above.

ALTER TABLE queue_entries
    ADD COLUMN transport      bigint  NOT NULL DEFAULT 0,
    ADD COLUMN transport_live boolean NOT NULL DEFAULT false,
    ADD COLUMN transport_at   text COLLATE "C";

-- The redelivery scan: taken entries whose lease may have run out, and live copies by age.
CREATE INDEX queue_entries_taken ON queue_entries (lease_until) WHERE NOT transport_live;
CREATE INDEX queue_entries_live_copies ON queue_entries (transport_at) WHERE transport_live;

CREATE TABLE outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner      text COLLATE "C" NOT NULL,
    queue      text COLLATE "C" NOT NULL CHECK (queue IN ('requests', 'responses', 'statuses')),
    message_id uuid             NOT NULL,
    transport  bigint           NOT NULL,
    created_at text COLLATE "C" NOT NULL
);

-- A lease straight from the database cancels the entry's copy still waiting here.
CREATE INDEX outbox_by_message ON outbox (message_id);

-- Participants served by the AMQP queue adapter (`rsmev participant amqp-setup`): the nodes fill
-- their inbox queues. Not part of the exported registry; no foreign key, so a registry import
-- (which replaces every participant) keeps the marks.
CREATE TABLE amqp_participants (
    mnemonic text COLLATE "C" PRIMARY KEY
);
