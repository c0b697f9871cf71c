-- Citizens' data encrypted at rest: the database is encrypted (SQLCipher) under a key kept in
-- slots in the file keys.json beside it. With the database closed until a clerk logs in,
-- failed logins are counted in that file, and the device credential moves in here, where it
-- is encrypted with the rest.

-- The device's token (it was in a file of its own), and a recovery key the back office has
-- not yet acknowledged holding (sent with the next exchange, then cleared).
ALTER TABLE sync_state ADD COLUMN token TEXT;
ALTER TABLE sync_state ADD COLUMN recovery_key TEXT;

DROP TABLE login_failures;
