-- The replica of appointments, read from the APPOINTMENTS stream.
CREATE TABLE appointments (
    facility      TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    department    TEXT    NOT NULL DEFAULT '',
    -- department lower-cased: outages match departments case-insensitively
    department_key TEXT   NOT NULL DEFAULT '',
    location      TEXT    NOT NULL DEFAULT '',
    start_ms    INTEGER NOT NULL,
    end_ms      INTEGER,
    status        TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT '',
    patient_id    TEXT    NOT NULL,
    patient_name  TEXT    NOT NULL DEFAULT '',
    language      TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    channels      TEXT    NOT NULL DEFAULT '',
    seq           INTEGER NOT NULL,
    PRIMARY KEY (facility, id)
) WITHOUT ROWID;

-- Planning looks up active appointments of one facility by start time; the
-- partial index keeps inactive ones out of it.
CREATE INDEX appointments_active_start ON appointments (facility, start_ms)
    WHERE status IN ('booked', 'pending', 'arrived', 'checked-in');

-- Stream positions of the materialised views, and other small facts.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Input that was refused: malformed events and appointment records.
CREATE TABLE rejects (
    id       INTEGER PRIMARY KEY,
    at       TEXT    NOT NULL,
    stream   TEXT    NOT NULL,
    subject  TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    UNIQUE (stream, seq)
);

-- Every accepted outage event, unique by CloudEvents source and id.
CREATE TABLE events (
    source      TEXT NOT NULL,
    id          TEXT NOT NULL,
    type        TEXT NOT NULL,
    outage_id   TEXT NOT NULL,
    facility    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (source, id)
) WITHOUT ROWID;

CREATE TABLE outages (
    outage_id   TEXT PRIMARY KEY,
    facility    TEXT NOT NULL,
    state       TEXT NOT NULL,
    data        TEXT NOT NULL,
    declared_at TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;

-- Notices as planned, and their outcome once known.
CREATE TABLE notices (
    id              TEXT PRIMARY KEY,
    outage_id       TEXT    NOT NULL,
    facility        TEXT    NOT NULL,
    patient_id      TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    earliest_ms   INTEGER NOT NULL,
    appointment_ids TEXT    NOT NULL,
    planned_at      TEXT    NOT NULL,
    outcome         TEXT,
    channel         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    outcome_at      TEXT
) WITHOUT ROWID;

CREATE INDEX notices_outage ON notices (outage_id, outcome);

-- The audit trail: every attempt of every notice on every channel.
CREATE TABLE attempts (
    notice_id TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    channel   TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    result    TEXT    NOT NULL,
    class     TEXT    NOT NULL DEFAULT '',
    code      INTEGER NOT NULL DEFAULT 0,
    enhanced  TEXT    NOT NULL DEFAULT '',
    reason    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (notice_id, n)
) WITHOUT ROWID;
