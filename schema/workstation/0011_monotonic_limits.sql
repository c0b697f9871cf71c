-- The limits measured in time that a clerk's clock could stretch (invariant 6, clocks lie):
-- a command line session's hours and the days since the back office was last reached are
-- measured on the monotonic clock when the machine has not restarted since, and otherwise
-- on the wall clock, never before the latest wall time this workstation has already seen.
ALTER TABLE cli_sessions ADD COLUMN boot TEXT NOT NULL DEFAULT '';
ALTER TABLE cli_sessions ADD COLUMN mono_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_state ADD COLUMN success_boot TEXT;
ALTER TABLE sync_state ADD COLUMN success_mono_ms INTEGER;
ALTER TABLE workstation ADD COLUMN wall_seen TEXT;
