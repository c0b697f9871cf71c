-- Four eyes and refunds. A change that needed a second person's approval names that
-- supervisor; the back office checked them like the actor and keeps both names. A refund gives
-- back (part of) one payment; requests.paid_minor is what is paid net of refunds.
ALTER TABLE applied_changes ADD COLUMN approver TEXT;

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment TEXT NOT NULL REFERENCES payments (id),
    request TEXT NOT NULL REFERENCES requests (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    receipt TEXT NOT NULL,
    clerk TEXT NOT NULL,
    approver TEXT NOT NULL
);
CREATE INDEX refunds_by_payment ON refunds (payment);
