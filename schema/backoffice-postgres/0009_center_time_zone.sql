-- Each centre's IANA time zone: its devices count days and hours in it. Centres made before
-- it count in UTC, as they did, until an administrator sets theirs.
ALTER TABLE centers ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
