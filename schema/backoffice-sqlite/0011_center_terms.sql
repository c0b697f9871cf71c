-- Each centre's currency and waiting-time target, sent to its devices at enrolment with the
-- back office's national id scheme. Centres made before them keep what their devices assumed
-- until then: euros and 15 minutes.
ALTER TABLE centers ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';
ALTER TABLE centers ADD COLUMN waiting_target_min INTEGER NOT NULL DEFAULT 15;
