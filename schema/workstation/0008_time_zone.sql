-- The centre's time zone (an IANA name): days, due dates, the queue's day and the report's
-- hours are the centre's local ones. A workstation set up before it counts in UTC, as it did.
ALTER TABLE workstation ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
