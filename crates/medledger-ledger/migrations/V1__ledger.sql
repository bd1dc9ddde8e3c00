-- medledger ledger schema, version 1: one file for both backends.
-- Written in the SQL that SQLite and PostgreSQL share. For PostgreSQL the
-- store turns the type names INTEGER into BIGINT and BLOB into BYTEA; lines
-- between "-- dialect: sqlite" / "-- dialect: postgres" and "-- dialect: all"
-- apply to that backend only.
-- Columns ending in _enc hold AES-256-GCM blobs (PHI); *_index columns hold
-- HMAC-SHA256 blind indexes. No other column holds PHI.
-- The hot tables of review (suggestions, decisions, final_codes) reference
-- their parent row only; their org_id and encounter_id copies are kept
-- consistent by the ledger (every write goes through it), which saves the
-- per-row foreign-key checks that dominate batched decisions on PostgreSQL.

CREATE TABLE ledger_lock (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
INSERT INTO ledger_lock (id, note) VALUES (1, 'writers lock this row');

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE org_keys (
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    version INTEGER NOT NULL,
    master_key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL,
    retired INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, version)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    credential TEXT,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (org_id, username)
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    token_hash BLOB NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    name_enc BLOB NOT NULL,
    dob_enc BLOB NOT NULL,
    sex TEXT,
    name_dob_index BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX patients_lookup ON patients (org_id, name_dob_index);

CREATE TABLE review_policies (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    activated_at TEXT NOT NULL,
    activated_by TEXT NOT NULL
);

CREATE TABLE encounters (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    patient_id INTEGER NOT NULL REFERENCES patients (id),
    dos TEXT NOT NULL,
    setting TEXT NOT NULL,
    payer TEXT,
    expected_charge_cents INTEGER,
    status TEXT NOT NULL,
    review_reasons TEXT NOT NULL,
    policy_id INTEGER REFERENCES review_policies (id),
    assigned_to INTEGER REFERENCES users (id),
    created_at TEXT NOT NULL,
    finalised_at TEXT,
    finalised_by TEXT,
    finalisation_mode TEXT
);
CREATE INDEX encounters_queue ON encounters (org_id, status);

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    encounter_id INTEGER NOT NULL REFERENCES encounters (id),
    kind TEXT NOT NULL,
    text_enc BLOB NOT NULL,
    char_len INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX documents_encounter ON documents (encounter_id);

CREATE TABLE coding_runs (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    encounter_id INTEGER NOT NULL REFERENCES encounters (id),
    document_id INTEGER NOT NULL REFERENCES documents (id),
    engine_version TEXT NOT NULL,
    model_version TEXT,
    codesets TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_us INTEGER NOT NULL,
    suggestion_count INTEGER NOT NULL
);
CREATE INDEX coding_runs_encounter ON coding_runs (encounter_id);

CREATE TABLE suggestions (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL REFERENCES coding_runs (id),
    encounter_id INTEGER NOT NULL,
    ordinal INTEGER NOT NULL,
    code_system TEXT NOT NULL,
    code TEXT NOT NULL,
    descriptor TEXT NOT NULL,
    confidence_milli INTEGER NOT NULL,
    flags TEXT NOT NULL,
    rule_ids TEXT NOT NULL,
    detail_enc BLOB NOT NULL,
    requires_review INTEGER NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX suggestions_encounter ON suggestions (encounter_id);

CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions (id),
    encounter_id INTEGER NOT NULL,
    reviewer_id INTEGER NOT NULL REFERENCES users (id),
    reviewer_credential TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT,
    comment_enc BLOB,
    new_code TEXT,
    new_evidence_enc BLOB,
    decided_at TEXT NOT NULL
);
CREATE INDEX decisions_suggestion ON decisions (suggestion_id);
CREATE INDEX decisions_encounter ON decisions (encounter_id);

CREATE TABLE final_codes (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL,
    encounter_id INTEGER NOT NULL REFERENCES encounters (id),
    ordinal INTEGER NOT NULL,
    code_system TEXT NOT NULL,
    code TEXT NOT NULL,
    source TEXT NOT NULL,
    suggestion_id INTEGER,
    decision_id INTEGER
);
CREATE INDEX final_codes_encounter ON final_codes (encounter_id);

CREATE TABLE claims (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    encounter_id INTEGER NOT NULL REFERENCES encounters (id),
    payer TEXT NOT NULL,
    claim_type TEXT NOT NULL,
    total_charge_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX claims_encounter ON claims (encounter_id);

CREATE TABLE claim_status_history (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    claim_id INTEGER NOT NULL REFERENCES claims (id),
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX claim_status_claim ON claim_status_history (claim_id);

CREATE TABLE remittances (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs (id),
    claim_id INTEGER REFERENCES claims (id),
    payer TEXT NOT NULL,
    paid_cents INTEGER NOT NULL,
    adjustment_codes TEXT NOT NULL,
    received_at TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX remittances_claim ON remittances (claim_id);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    org TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL,
    signature BLOB,
    key_id TEXT
);
CREATE INDEX audit_log_subject ON audit_log (subject);

-- Append-only: the ledger never updates or deletes audit rows. These
-- triggers make an accidental UPDATE/DELETE fail; deliberate tampering by
-- someone who can drop them is what `audit verify` catches.
-- dialect: sqlite
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
-- dialect: postgres
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- dialect: all
