-- The recovery key of each device's encrypted database, held for the clerks the back office
-- vouches for at their first login on that device (the device sends it at enrolment, or with
-- its first exchange after its plain database was encrypted).
ALTER TABLE devices ADD COLUMN recovery_key TEXT;
