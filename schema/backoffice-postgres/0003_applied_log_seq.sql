-- Where each applied change went in its centre's log, so that a retried push (answered
-- "duplicate") tells the device the same place as the "applied" answer it lost.
ALTER TABLE applied_changes ADD COLUMN log_seq BIGINT;
