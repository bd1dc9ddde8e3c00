-- Claims carry what posting needs: the submitter's patient control number
-- (CLM01, matched by 835 CLP01 and 277CA/999 acknowledgements), the payer's
-- claim control number, and the adjudicated amounts.
ALTER TABLE claims ADD COLUMN control_number TEXT;
ALTER TABLE claims ADD COLUMN payer_claim_control_number TEXT;
ALTER TABLE claims ADD COLUMN paid_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE claims ADD COLUMN adjustment_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE claims ADD COLUMN patient_responsibility_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE claims ADD COLUMN denied_cents INTEGER NOT NULL DEFAULT 0;
CREATE INDEX claims_control_number ON claims (org_id, control_number);
