//! Per-organisation data keys in the store, sealing and opening PHI
//! columns, and key rotation (`keys rotate`).

use super::{Ctx, Ledger, LedgerError, Principal, Result, now};
use crate::audit::AuditKind;
use crate::crypto::{
    Aad, BlindIndexKey, Keyring, MasterKey, WrappedKey, blind_index_parts, normalize_for_index,
    rewrap_all,
};
use crate::ledger::roles::Action;
use crate::store::{Conn, Value};
use serde::Serialize;
use serde_json::json;

/// Every sealed column: (table, id column, blob column).
pub(crate) const SEALED_COLUMNS: [(&str, &str); 6] = [
    ("patients", "name_enc"),
    ("patients", "dob_enc"),
    ("documents", "text_enc"),
    ("suggestions", "detail_enc"),
    ("decisions", "comment_enc"),
    ("decisions", "new_evidence_enc"),
];

fn load_wrapped(c: &mut dyn Conn, org_id: i64, org: &str) -> Result<Vec<WrappedKey>> {
    let rows = c.query(
        "SELECT version, master_key_id, nonce, wrapped FROM org_keys WHERE org_id = ? AND retired = 0 ORDER BY version",
        &[org_id.into()],
    )?;
    rows.iter()
        .map(|r| {
            let version = u32::try_from(r.int(0)?).map_err(|_| corrupt(org_id, "version"))?;
            let nonce: [u8; 12] = r
                .blob(2)?
                .try_into()
                .map_err(|_| corrupt(org_id, "nonce"))?;
            Ok(WrappedKey {
                org: org.to_owned(),
                version,
                master_key_id: r.text(1)?,
                nonce,
                ciphertext: r.blob(3)?,
            })
        })
        .collect()
}

fn corrupt(org_id: i64, column: &'static str) -> LedgerError {
    LedgerError::Store(crate::store::StoreError::Corrupt {
        table: "org_keys",
        id: org_id,
        column,
        message: "malformed wrapped key".into(),
    })
}

fn store_wrapped(c: &mut dyn Conn, org_id: i64, w: &WrappedKey) -> Result<()> {
    c.exec(
        "INSERT INTO org_keys (org_id, version, master_key_id, nonce, wrapped, created_at, retired) VALUES (?, ?, ?, ?, ?, ?, 0)",
        &[
            org_id.into(),
            w.version.into(),
            w.master_key_id.clone().into(),
            w.nonce.to_vec().into(),
            w.ciphertext.clone().into(),
            now().into(),
        ],
    )?;
    Ok(())
}

impl Ctx<'_> {
    /// The organisation's keyring, created (and stored) on first use when
    /// `create` (inside a write transaction).
    pub(crate) fn keyring(
        &mut self,
        c: &mut dyn Conn,
        org_id: i64,
        org: &str,
        create: bool,
    ) -> Result<&Keyring> {
        if !self.keyrings.contains_key(&org_id) {
            let wrapped = load_wrapped(c, org_id, org)?;
            let ring = if wrapped.is_empty() {
                if !create {
                    return Err(LedgerError::Conflict(format!(
                        "organisation {org} has no data key yet"
                    )));
                }
                let ring = Keyring::new(org)?;
                for w in ring.wrap_all(self.master)? {
                    store_wrapped(c, org_id, &w)?;
                }
                ring
            } else {
                Keyring::from_wrapped(self.master, org, &wrapped)?
            };
            self.keyrings.insert(org_id, ring);
        }
        self.keyrings
            .get(&org_id)
            .ok_or_else(|| LedgerError::Conflict("keyring unavailable".into()))
    }

    pub(crate) fn seal(
        &mut self,
        c: &mut dyn Conn,
        p: &Principal,
        table: &str,
        column: &str,
        row: i64,
        plain: &[u8],
    ) -> Result<Vec<u8>> {
        let ring = self.keyring(c, p.org_id, &p.org, true)?;
        Ok(ring.seal(&Aad::new(&p.org, table, column, &row.to_string()), plain)?)
    }

    pub(crate) fn open(
        &mut self,
        c: &mut dyn Conn,
        p: &Principal,
        table: &str,
        column: &str,
        row: i64,
        blob: &[u8],
    ) -> Result<Vec<u8>> {
        let ring = self.keyring(c, p.org_id, &p.org, false)?;
        Ok(ring.open(&Aad::new(&p.org, table, column, &row.to_string()), blob)?)
    }

    pub(crate) fn open_text(
        &mut self,
        c: &mut dyn Conn,
        p: &Principal,
        table: &str,
        column: &str,
        row: i64,
        blob: &[u8],
    ) -> Result<String> {
        let bytes = self.open(c, p, table, column, row, blob)?;
        String::from_utf8(bytes).map_err(|_| {
            LedgerError::Store(crate::store::StoreError::Corrupt {
                table: "sealed",
                id: row,
                column: "utf8",
                message: format!("{table}.{column} did not decrypt to UTF-8"),
            })
        })
    }

    pub(crate) fn blind_key(&mut self, c: &mut dyn Conn, p: &Principal) -> Result<BlindIndexKey> {
        Ok(self.keyring(c, p.org_id, &p.org, true)?.blind_index_key()?)
    }
}

/// The patient lookup index: name and date of birth, normalised.
pub(crate) fn patient_index(key: &BlindIndexKey, name: &str, dob: &str) -> Vec<u8> {
    let n = normalize_for_index(name);
    blind_index_parts(key, "patient.name_dob", &[n.as_str(), dob]).to_vec()
}

/// What `keys rotate` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotationReport {
    /// Organisation.
    pub org: String,
    /// New data-key version (data-key rotation).
    pub data_key_version: Option<u32>,
    /// Blobs re-encrypted under it.
    pub resealed: u64,
    /// Wrapped keys re-wrapped (master-key rotation).
    pub rewrapped: u64,
    /// The master key id now in use.
    pub master_key_id: String,
}

impl Ledger {
    /// Data-key rotation for the principal's organisation: a new data-key
    /// version, every sealed blob of the organisation re-encrypted under it
    /// and the patient index recomputed, the old versions retired; one
    /// transaction (all or nothing).
    pub fn rotate_data_key(&mut self, p: &Principal) -> Result<RotationReport> {
        p.require(Action::RotateKeys)?;
        let master_id = self.master.key_id().to_owned();
        self.write_audited(|c, ctx| {
            let mut ring = {
                let wrapped = load_wrapped(c, p.org_id, &p.org)?;
                if wrapped.is_empty() {
                    Keyring::new(&p.org)?
                } else {
                    Keyring::from_wrapped(ctx.master, &p.org, &wrapped)?
                }
            };
            let old_versions: Vec<u32> = ring.versions().collect();
            let version = ring.rotate()?;
            let mut resealed = 0;
            for (table, column) in SEALED_COLUMNS {
                let rows = c.query(
                    &format!("SELECT id, {column} FROM {table} WHERE org_id = ? AND {column} IS NOT NULL"),
                    &[p.org_id.into()],
                )?;
                for r in rows {
                    let id = r.int(0)?;
                    let aad_row = id.to_string();
                    let aad = Aad::new(&p.org, table, column, &aad_row);
                    let plain = ring.open(&aad, &r.blob(1)?)?;
                    let blob = ring.seal(&aad, &plain)?;
                    c.exec(
                        &format!("UPDATE {table} SET {column} = ? WHERE id = ?"),
                        &[blob.into(), id.into()],
                    )?;
                    resealed += 1;
                }
            }
            // the blind index key derives from the current data key
            let blind = ring.blind_index_key()?;
            for r in c.query(
                "SELECT id, name_enc, dob_enc FROM patients WHERE org_id = ?",
                &[p.org_id.into()],
            )? {
                let id = r.int(0)?;
                let row = id.to_string();
                let name = ring.open(&Aad::new(&p.org, "patients", "name_enc", &row), &r.blob(1)?)?;
                let dob = ring.open(&Aad::new(&p.org, "patients", "dob_enc", &row), &r.blob(2)?)?;
                let idx = patient_index(
                    &blind,
                    &String::from_utf8_lossy(&name),
                    &String::from_utf8_lossy(&dob),
                );
                c.exec(
                    "UPDATE patients SET name_dob_index = ? WHERE id = ?",
                    &[idx.into(), id.into()],
                )?;
            }
            for w in ring.wrap_all(ctx.master)? {
                if w.version == version {
                    store_wrapped(c, p.org_id, &w)?;
                }
            }
            for v in &old_versions {
                c.exec(
                    "UPDATE org_keys SET retired = 1 WHERE org_id = ? AND version = ?",
                    &[p.org_id.into(), Value::from(*v)],
                )?;
            }
            ctx.keyrings.remove(&p.org_id);
            ctx.audit(
                p,
                AuditKind::KeyRotation,
                format!("org:{}", p.org_id),
                json!({"key": "data", "new_version": version, "retired_versions": old_versions, "resealed": resealed}),
            );
            Ok(RotationReport {
                org: p.org.clone(),
                data_key_version: Some(version),
                resealed,
                rewrapped: 0,
                master_key_id: master_id.clone(),
            })
        })
    }

    /// Master-key rotation: every organisation's data keys re-wrapped under
    /// `new_master` (field blobs untouched), one transaction. The caller
    /// then stores the new key file; the ledger uses the new key at once.
    pub fn rotate_master_key(
        &mut self,
        p: &Principal,
        new_master: MasterKey,
    ) -> Result<RotationReport> {
        p.require(Action::RotateKeys)?;
        let new_id = new_master.key_id().to_owned();
        let report = {
            let new_master = &new_master;
            self.write_audited(|c, ctx| {
                let orgs = c.query("SELECT id, slug FROM orgs ORDER BY id", &[])?;
                let mut rewrapped = 0;
                for o in orgs {
                    let (org_id, slug) = (o.int(0)?, o.text(1)?);
                    let wrapped = load_wrapped(c, org_id, &slug)?;
                    for w in rewrap_all(&wrapped, ctx.master, new_master)? {
                        c.exec(
                            "UPDATE org_keys SET master_key_id = ?, nonce = ?, wrapped = ? WHERE org_id = ? AND version = ?",
                            &[
                                w.master_key_id.clone().into(),
                                w.nonce.to_vec().into(),
                                w.ciphertext.clone().into(),
                                org_id.into(),
                                Value::from(w.version),
                            ],
                        )?;
                        rewrapped += 1;
                    }
                }
                ctx.audit(
                    p,
                    AuditKind::KeyRotation,
                    "master-key".into(),
                    json!({"key": "master", "new_master_key_id": new_id, "rewrapped": rewrapped}),
                );
                Ok(RotationReport {
                    org: p.org.clone(),
                    data_key_version: None,
                    resealed: 0,
                    rewrapped,
                    master_key_id: new_id.clone(),
                })
            })?
        };
        self.master = new_master;
        self.keyrings.clear();
        Ok(report)
    }
}
