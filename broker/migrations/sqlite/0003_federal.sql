-- Schema version 3: information types served by the federal SMEV 3.
--
-- A federal type's requests pass every local check and are queued to its provider, the
-- participant the federal link (adapters/smev3) acts as on this node; the link sends them
-- upstream. Existing types are local.

ALTER TABLE infotypes ADD COLUMN federal INTEGER NOT NULL DEFAULT 0 CHECK (federal IN (0, 1));
