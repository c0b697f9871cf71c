-- Revoke with wipe: an administrator asks a revoked device to erase its local replica. Until it
-- confirms, the device may still push (what waits on it is delivered) but is sent nothing; its
-- confirmation closes it for good and the back office forgets its recovery key.
ALTER TABLE devices ADD COLUMN wipe_requested_at TEXT;
ALTER TABLE devices ADD COLUMN wiped_at TEXT;
