-- One row the worker rewrites to tell whether the store can still be
-- written (readiness): a full disk or a read-only file shows here before
-- planning needs the store.
CREATE TABLE probe (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms INTEGER NOT NULL
);
