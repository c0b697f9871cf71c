-- The report reads payments and refunds by time, and had no index for it: every report, of a
-- day or of a year, scanned both tables (a million payments in a busy year). A period's money
-- is what was made in it: by the time it was recorded here, or, for another device's payment
-- or refund recorded here later, by the stamp it came with (`hlc`); what was paid after the
-- end of a period is found the same way.
CREATE INDEX payments_by_time ON payments (at);
CREATE INDEX payments_by_stamp ON payments (hlc);
CREATE INDEX refunds_by_time ON refunds (at);
CREATE INDEX refunds_by_stamp ON refunds (hlc);
