-- What staff did on the call list (the CALLS stream): every event, as the
-- audit of who claimed or called whom and when, and each row's state after
-- its latest event.
CREATE TABLE call_events (
    id        TEXT PRIMARY KEY,
    seq       INTEGER NOT NULL,
    notice_id TEXT NOT NULL,
    outage_id TEXT NOT NULL,
    action    TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    by_name   TEXT NOT NULL,
    at        TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX call_events_by_notice ON call_events (notice_id, seq);

CREATE TABLE calls (
    notice_id TEXT PRIMARY KEY,
    outage_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    state     TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX calls_by_outage ON calls (outage_id);
