-- Notices in the order they were planned, and each notice's attempts in a
-- column of its own row. Outcomes arrive roughly in planning order (soonest
-- appointment first), so recording one now changes pages that the previous
-- outcomes changed too, instead of a page anywhere in a table ordered by
-- notice id and another in a second table of attempts: about an eighth of
-- the work per outcome.
CREATE TABLE notices_by_seq (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    outage_id       TEXT    NOT NULL,
    facility        TEXT    NOT NULL,
    patient_id      TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    language        TEXT    NOT NULL,
    earliest_ms     INTEGER NOT NULL,
    appointment_ids TEXT    NOT NULL,
    planned_at      TEXT    NOT NULL,
    outcome         TEXT,
    channel         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    outcome_at      TEXT,
    event_key       TEXT    NOT NULL DEFAULT '',
    -- The audit trail: every attempt on every channel, a JSON array of
    -- {channel, at, result, class, code, enhanced, reason}, oldest first.
    trail           TEXT    NOT NULL DEFAULT '[]'
);

INSERT INTO notices_by_seq (id, outage_id, facility, patient_id, kind, language, earliest_ms, appointment_ids,
    planned_at, outcome, channel, attempts, outcome_at, event_key, trail)
SELECT n.id, n.outage_id, n.facility, n.patient_id, n.kind, n.language, n.earliest_ms, n.appointment_ids,
    n.planned_at, n.outcome, n.channel, n.attempts, n.outcome_at, n.event_key,
    (SELECT json_group_array(json_object('channel', t.channel, 'at', t.at, 'result', t.result,
        'class', t.class, 'code', t.code, 'enhanced', t.enhanced, 'reason', t.reason) ORDER BY t.n)
        FROM attempts AS t WHERE t.notice_id = n.id)
FROM notices AS n
ORDER BY n.planned_at, n.earliest_ms, n.id;

DROP TABLE attempts;
DROP TABLE notices;
ALTER TABLE notices_by_seq RENAME TO notices;

-- notices_outage (outage_id, outcome) was a prefix of notices_outage_progress.
CREATE INDEX notices_outage_progress ON notices (outage_id, outcome, channel, kind, earliest_ms);
CREATE INDEX notices_outage_outcome_at ON notices (outage_id, outcome_at);
