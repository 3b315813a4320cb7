-- What happened to a notice after a channel accepted it: the revision of
-- its outcome (feedback revises it), when the patient confirmed reading it,
-- and whether a channel reported it failed after accepting it (a bounce, a
-- failed SMS).
ALTER TABLE notices ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notices ADD COLUMN confirmed_at TEXT;
ALTER TABLE notices ADD COLUMN failed_after_accept INTEGER NOT NULL DEFAULT 0;
