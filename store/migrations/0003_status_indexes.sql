-- The status page counts an outage's notices by outcome, channel and kind
-- and finds the soonest appointment still pending, from this index alone.
CREATE INDEX notices_outage_progress ON notices (outage_id, outcome, channel, kind, earliest_ms);

-- It also finds an outage's first and latest outcome and counts the recent
-- ones for the rate, without reading every notice.
CREATE INDEX notices_outage_outcome_at ON notices (outage_id, outcome_at);
