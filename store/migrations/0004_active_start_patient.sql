-- Planning first reads the patients of the soonest affected appointments and
-- then every affected appointment of theirs, before it sorts the whole
-- scope. With every column of the outage's condition in the index, SQLite
-- tells the rows apart without reading the table for each appointment in
-- the outage's time range.
DROP INDEX appointments_active_start;
CREATE INDEX appointments_active_start ON appointments (facility, start_ms, patient_id, status, kind, department_key)
    WHERE status IN ('booked', 'pending', 'arrived', 'checked-in');
