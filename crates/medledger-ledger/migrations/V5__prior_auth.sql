-- Prior-authorisation requests and their decisions (no PHI: payer, gold-card
-- program, provider NPI, service code, dates). Feeds the gold-card report.
CREATE TABLE prior_auths (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    payer TEXT NOT NULL,
    program TEXT NOT NULL,
    provider TEXT NOT NULL,
    code TEXT NOT NULL,
    requested_on TEXT NOT NULL,
    decided_on TEXT,
    approved INTEGER,
    reference TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX prior_auths_org ON prior_auths (org_id, requested_on);
