-- The event a notice was planned for (CloudEvents source and id), so that
-- an update is compared with what earlier events already told patients.
ALTER TABLE notices ADD COLUMN event_key TEXT NOT NULL DEFAULT '';
