-- What happened to a notice after a channel accepted it: the revision of
-- its outcome (feedback revises it), when the patient confirmed reading it,
-- and whether a channel reported it failed after accepting it (a bounce, a
-- failed SMS).
ALTER TABLE notices ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notices ADD COLUMN confirmed_at TEXT;
ALTER TABLE notices ADD COLUMN failed_after_accept INTEGER NOT NULL DEFAULT 0;

-- The notices delivered and not yet confirmed, which dispatch.confirm_within
-- looks through.
CREATE INDEX notices_unconfirmed ON notices (earliest_ms)
    WHERE outcome = 'delivered' AND confirmed_at IS NULL;

-- The status page counts confirmed notices and those failed after
-- acceptance from the index alone, as it counts outcomes.
DROP INDEX notices_outage_progress;
CREATE INDEX notices_outage_progress ON notices (outage_id, outcome, channel, kind, earliest_ms, confirmed_at, failed_after_accept);
