-- An event is known by the facility it came from as well as its source and
-- id: an event on one facility's subject that reuses another facility's
-- source and id must not make the real one look already handled.
CREATE TABLE events_by_facility (
    source      TEXT NOT NULL,
    id          TEXT NOT NULL,
    type        TEXT NOT NULL,
    outage_id   TEXT NOT NULL,
    facility    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    data        TEXT NOT NULL,
    PRIMARY KEY (facility, source, id)
) WITHOUT ROWID;
INSERT INTO events_by_facility (source, id, type, outage_id, facility, received_at, data)
    SELECT source, id, type, outage_id, facility, received_at, data FROM events;
DROP TABLE events;
ALTER TABLE events_by_facility RENAME TO events;
