-- A move of a request pulled from another device of the centre keeps the stamp it came with,
-- of the clock of the device that made it, beside the stamp it gets here (`hlc`, which keeps
-- the timeline in the order this device learnt of the moves): the report's statuses at the
-- end of a period take such a move as of when it was made, not as of when it arrived. Null for
-- a move made here, an agency's decision, and a move pulled before it was kept.
ALTER TABLE request_events ADD COLUMN made_hlc TEXT;
