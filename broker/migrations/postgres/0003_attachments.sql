-- Schema version 3: the contents of inline attachments (basic:AttachmentContent). The same
-- table as the embedded schema's (migrations/sqlite/0002_attachments.sql); only the types differ.
--
-- A message's AttachmentHeaderList travels inside the signed SenderProvidedRequestData /
-- SenderProvidedResponseData (messages.content); the contents travel outside it and are kept
-- here, one row per AttachmentContent, written by the accepting transaction together with the
-- message row, and read back by every lease of the message (in the leasing statement). The node
-- delivers a message whole or not at all.
--
--   position    order in the AttachmentContentList as received (0, 1, …), kept on delivery
--   content_id  AttachmentContent/Id, the contentId its header names
--   content     the bytes, decoded (binary, not base64); their total per message is bounded by
--               limits.max_attachment_bytes
--
-- The rows live as long as the message row: an Ack removes the queue entry, not the message
-- (see 0001_initial.sql), and so not its attachments either.

CREATE TABLE message_attachments (
    message_id uuid             NOT NULL REFERENCES messages (message_id),
    position   integer          NOT NULL,
    content_id text COLLATE "C" NOT NULL,
    content    bytea            NOT NULL,
    PRIMARY KEY (message_id, position)
);

-- Attachments are mostly compressed already (archives, PDF, images): store them out of line
-- without trying to compress them again.
ALTER TABLE message_attachments ALTER COLUMN content SET STORAGE EXTERNAL;
