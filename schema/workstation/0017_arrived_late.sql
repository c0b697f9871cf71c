-- A past period's report says what was made in it on other devices and reached this one only
-- after it ended (a bus synced the next morning): the moves of requests are found by the stamp
-- they were made with. Only moves pulled from another device carry one.
CREATE INDEX request_events_by_made ON request_events (made_hlc) WHERE made_hlc IS NOT NULL;
