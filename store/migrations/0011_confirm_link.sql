-- Whether the patient has the notice with its confirmation link: an SMS
-- takes the link only when it fits. Only such a notice can go unconfirmed
-- (dispatch.confirm_within). Outcomes stored before this column count as
-- carrying it, as they did.
ALTER TABLE notices ADD COLUMN confirm_link INTEGER NOT NULL DEFAULT 1;
