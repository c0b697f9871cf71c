-- Two reads of the report that scanned every timeline event (millions in a busy year):
-- the statuses at the end of a past period look at the events after it, and the decisions of
-- a period are the events that returned or rejected a request, a small share of them.
CREATE INDEX request_events_by_time ON request_events (at);
CREATE INDEX request_events_decisions ON request_events (at)
    WHERE to_status IN ('returned_for_correction', 'rejected');
