//! Users, roles, passwords and API tokens.

use super::{Actor, Ledger, LedgerError, Principal, Result, invalid, next_id, not_found, now};
use crate::audit::AuditKind;
use crate::crypto::{hash_password, hash_token, new_api_token, verify_password};
use crate::ledger::roles::{Action, Role};
use crate::store::{Conn, Value};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name (letters, digits, `.`, `_`, `-`, `@`).
    pub username: String,
    /// Name shown in packets.
    pub display_name: String,
    /// Coding credential (CPC, CCS, CCS-P, RHIT, RHIA, CRC, CIC, COC, …).
    pub credential: Option<String>,
    /// Password (hashed with argon2id), if the user logs in by password.
    pub password: Option<SecretString>,
    /// Initial roles.
    pub roles: Vec<Role>,
}

/// A user as listed (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// Id.
    pub id: i64,
    /// Organisation slug.
    pub org: String,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Credential.
    pub credential: Option<String>,
    /// Roles.
    pub roles: Vec<Role>,
    /// Disabled users cannot act.
    pub disabled: bool,
}

fn check_username(u: &str) -> Result<()> {
    if u.is_empty()
        || u.len() > 64
        || !u
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(invalid(
            "username",
            "1 to 64 of letters, digits, '.', '_', '-', '@'",
        ));
    }
    Ok(())
}

fn roles_of(c: &mut dyn Conn, user_id: i64) -> Result<Vec<Role>> {
    let mut roles = Vec::new();
    for r in c.query(
        "SELECT role FROM user_roles WHERE user_id = ? ORDER BY role",
        &[user_id.into()],
    )? {
        let name = r.text(0)?;
        roles.push(name.parse::<Role>().map_err(|m| {
            LedgerError::Store(crate::store::StoreError::Corrupt {
                table: "user_roles",
                id: user_id,
                column: "role",
                message: m,
            })
        })?);
    }
    roles.sort();
    Ok(roles)
}

fn user_row(c: &mut dyn Conn, where_sql: &str, params: &[Value]) -> Result<Option<UserInfo>> {
    let rows = c.query(
        &format!(
            "SELECT u.id, o.slug, u.username, u.display_name, u.credential, u.disabled FROM users u JOIN orgs o ON o.id = u.org_id WHERE {where_sql}"
        ),
        params,
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let id = r.int(0)?;
    Ok(Some(UserInfo {
        id,
        org: r.text(1)?,
        username: r.text(2)?,
        display_name: r.text(3)?,
        credential: r.opt_text(4)?,
        roles: roles_of(c, id)?,
        disabled: r.int(5)? != 0,
    }))
}

fn principal_of(org_id: i64, u: UserInfo) -> Result<Principal> {
    if u.disabled {
        return Err(LedgerError::Unauthenticated);
    }
    Ok(Principal {
        org_id,
        org: u.org,
        actor: Actor::User {
            id: u.id,
            username: u.username,
            credential: u.credential,
            roles: u.roles,
        },
    })
}

impl Ledger {
    /// Adds a user to the principal's organisation.
    pub fn add_user(&mut self, p: &Principal, new: &NewUser) -> Result<UserInfo> {
        p.require(Action::ManageUsers)?;
        check_username(&new.username)?;
        if let Some(cred) = &new.credential
            && (cred.trim().is_empty() || cred.len() > 32)
        {
            return Err(invalid("credential", "1 to 32 characters"));
        }
        let phc = new
            .password
            .as_ref()
            .map(|pw| {
                if pw.expose_secret().chars().count() < 12 {
                    return Err(invalid("password", "at least 12 characters"));
                }
                Ok(hash_password(pw.expose_secret())?)
            })
            .transpose()?;
        let mut roles = new.roles.clone();
        roles.sort();
        roles.dedup();
        self.write_audited(|c, ctx| {
            let exists = c.query(
                "SELECT id FROM users WHERE org_id = ? AND username = ?",
                &[p.org_id.into(), new.username.as_str().into()],
            )?;
            if !exists.is_empty() {
                return Err(LedgerError::Conflict(format!(
                    "user {} already exists in {}",
                    new.username, p.org
                )));
            }
            let id = next_id(c, "users")?;
            c.exec(
                "INSERT INTO users (id, org_id, username, display_name, credential, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                &[
                    id.into(),
                    p.org_id.into(),
                    new.username.as_str().into(),
                    new.display_name.as_str().into(),
                    new.credential.clone().into(),
                    phc.clone().into(),
                    now().into(),
                ],
            )?;
            for r in &roles {
                c.exec(
                    "INSERT INTO user_roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?)",
                    &[id.into(), r.as_str().into(), p.audit_actor().into(), now().into()],
                )?;
            }
            ctx.audit(
                p,
                AuditKind::UserAdmin,
                format!("user:{id}"),
                json!({"op": "add", "username": new.username, "credential": new.credential, "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()}),
            );
            Ok(UserInfo {
                id,
                org: p.org.clone(),
                username: new.username.clone(),
                display_name: new.display_name.clone(),
                credential: new.credential.clone(),
                roles: roles.clone(),
                disabled: false,
            })
        })
    }

    /// Grants (`grant = true`) or revokes a role.
    pub fn set_role(
        &mut self,
        p: &Principal,
        username: &str,
        role: Role,
        grant: bool,
    ) -> Result<UserInfo> {
        p.require(Action::ManageUsers)?;
        self.write_audited(|c, ctx| {
            let u = user_row(c, "u.org_id = ? AND u.username = ?", &[p.org_id.into(), username.into()])?
                .ok_or_else(|| not_found("user", username))?;
            if grant {
                c.exec(
                    "INSERT INTO user_roles (user_id, role, granted_by, granted_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    &[u.id.into(), role.as_str().into(), p.audit_actor().into(), now().into()],
                )?;
            } else {
                c.exec(
                    "DELETE FROM user_roles WHERE user_id = ? AND role = ?",
                    &[u.id.into(), role.as_str().into()],
                )?;
            }
            ctx.audit(
                p,
                AuditKind::UserAdmin,
                format!("user:{}", u.id),
                json!({"op": if grant { "grant" } else { "revoke" }, "username": u.username, "role": role.as_str()}),
            );
            let mut u = u;
            u.roles = roles_of(c, u.id)?;
            Ok(u)
        })
    }

    /// Lists the organisation's users.
    pub fn list_users(&mut self, p: &Principal) -> Result<Vec<UserInfo>> {
        p.require(Action::ManageUsers)?;
        let mut out = Vec::new();
        self.read_audited(|c, _| {
            out.clear();
            let ids = c.query(
                "SELECT id FROM users WHERE org_id = ? ORDER BY id",
                &[p.org_id.into()],
            )?;
            for r in ids {
                if let Some(u) = user_row(c, "u.id = ?", &[r.int(0)?.into()])? {
                    out.push(u);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The principal for a user of an organisation, by name (the CLI's
    /// `--as USER`: the operator holding the master key may act as any
    /// user; the HTTP edge authenticates by password or token instead).
    pub fn principal_for(&mut self, org: &str, username: &str) -> Result<Principal> {
        let org_id = self.org_id(org)?;
        let mut found = None;
        self.db.read(&mut |c| {
            found = user_row_store(c, org_id, username)?;
            Ok(())
        })?;
        principal_of(org_id, found.ok_or_else(|| not_found("user", username))?)
    }

    /// Logs in by password.
    pub fn login(
        &mut self,
        org: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<Principal> {
        let org_id = self.org_id(org).map_err(|_| LedgerError::Unauthenticated)?;
        let mut found = None;
        self.db.read(&mut |c| {
            let rows = c.query(
                "SELECT password_hash FROM users WHERE org_id = ? AND username = ?",
                &[org_id.into(), username.into()],
            )?;
            let phc = rows.first().map(|r| r.opt_text(0)).transpose()?.flatten();
            found = Some(phc);
            Ok(())
        })?;
        match found.flatten() {
            Some(phc) if verify_password(&phc, password.expose_secret()) => self
                .principal_for(org, username)
                .map_err(|_| LedgerError::Unauthenticated),
            Some(_) => Err(LedgerError::Unauthenticated),
            None => {
                // Unknown user (or no password): spend the same argon2id
                // time as a wrong password, so timing does not tell which.
                let _ = verify_password(dummy_phc(), password.expose_secret());
                Err(LedgerError::Unauthenticated)
            }
        }
    }

    /// Issues an API token for a user (shown once; only its SHA-256 is stored).
    pub fn issue_token(
        &mut self,
        p: &Principal,
        username: &str,
        label: &str,
    ) -> Result<SecretString> {
        p.require(Action::ManageUsers)?;
        let (token, hash) = new_api_token()?;
        self.write_audited(|c, ctx| {
            let u = user_row(c, "u.org_id = ? AND u.username = ?", &[p.org_id.into(), username.into()])?
                .ok_or_else(|| not_found("user", username))?;
            let id = next_id(c, "api_tokens")?;
            c.exec(
                "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, revoked) VALUES (?, ?, ?, ?, ?, 0)",
                &[id.into(), u.id.into(), hash.to_vec().into(), label.into(), now().into()],
            )?;
            ctx.audit(
                p,
                AuditKind::UserAdmin,
                format!("user:{}", u.id),
                json!({"op": "issue_token", "token_id": id, "label": label}),
            );
            Ok(())
        })?;
        Ok(token)
    }

    /// Authenticates an API token: not revoked, not expired, its user
    /// not disabled.
    pub fn authenticate_token(&mut self, token: &str) -> Result<Principal> {
        self.authenticate_token_info(token).map(|(p, _)| p)
    }

    /// [`Ledger::authenticate_token`], with the token's expiry (`None`:
    /// never expires), so a caller caching the principal never keeps it
    /// past the expiry.
    pub fn authenticate_token_info(
        &mut self,
        token: &str,
    ) -> Result<(Principal, Option<jiff::Timestamp>)> {
        let hash = hash_token(token);
        let mut found = None;
        self.db.read(&mut |c| {
            let rows = c.query(
                "SELECT u.org_id, u.id, t.expires_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked = 0",
                &[hash.to_vec().into()],
            )?;
            if let Some(r) = rows.first() {
                let org_id = r.int(0)?;
                let expires = r.opt_text(2)?;
                found = user_row(c, "u.id = ?", &[r.int(1)?.into()]).map_err(to_store)?.map(|u| (org_id, u, expires));
            }
            Ok(())
        })?;
        let (org_id, u, expires) = found.ok_or(LedgerError::Unauthenticated)?;
        let expires = match expires {
            None => None,
            Some(text) => {
                // An unreadable expiry is treated as expired.
                let at: jiff::Timestamp = text.parse().map_err(|_| LedgerError::Unauthenticated)?;
                if at <= jiff::Timestamp::now() {
                    return Err(LedgerError::Unauthenticated);
                }
                Some(at)
            }
        };
        Ok((principal_of(org_id, u)?, expires))
    }

    /// Issues a token for the principal's own user (a login session): no
    /// `ManageUsers` needed. `ttl` of `None` never expires. Returns the
    /// token (shown once) and its expiry.
    pub fn issue_session_token(
        &mut self,
        p: &Principal,
        label: &str,
        ttl: Option<std::time::Duration>,
    ) -> Result<(SecretString, Option<jiff::Timestamp>)> {
        let Some(user_id) = p.user_id() else {
            return Err(invalid("principal", "only a user can hold a session"));
        };
        let expires = match ttl {
            None => None,
            Some(d) => {
                let span =
                    jiff::SignedDuration::try_from(d).map_err(|_| invalid("ttl", "too long"))?;
                Some(
                    jiff::Timestamp::now()
                        .checked_add(span)
                        .map_err(|_| invalid("ttl", "too long"))?,
                )
            }
        };
        let (token, hash) = new_api_token()?;
        self.write_audited(|c, ctx| {
            let rows = c.query(
                "SELECT disabled FROM users WHERE id = ? AND org_id = ?",
                &[user_id.into(), p.org_id.into()],
            )?;
            match rows.first() {
                Some(r) if r.int(0)? == 0 => {}
                _ => return Err(LedgerError::Unauthenticated),
            }
            let id = next_id(c, "api_tokens")?;
            c.exec(
                "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, revoked, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                &[id.into(), user_id.into(), hash.to_vec().into(), label.into(), now().into(), expires.map(|t| t.to_string()).into()],
            )?;
            ctx.audit(
                p,
                AuditKind::UserAdmin,
                format!("user:{user_id}"),
                json!({"op": "session", "token_id": id, "label": label, "expires_at": expires.map(|t| t.to_string())}),
            );
            Ok(())
        })?;
        Ok((token, expires))
    }

    /// Revokes a token: the principal's own (logout), or any token of the
    /// organisation for a principal who may manage users. An unknown token,
    /// or another user's without that right, reads as not found.
    pub fn revoke_token(&mut self, p: &Principal, token: &str) -> Result<()> {
        let hash = hash_token(token);
        let manage = p.may(Action::ManageUsers);
        self.write_audited(|c, ctx| {
            let rows = c.query(
                "SELECT t.id, t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND u.org_id = ?",
                &[hash.to_vec().into(), p.org_id.into()],
            )?;
            let r = rows.first().ok_or_else(|| not_found("token", "presented"))?;
            let (id, owner) = (r.int(0)?, r.int(1)?);
            if !manage && p.user_id() != Some(owner) {
                return Err(not_found("token", "presented"));
            }
            c.exec("UPDATE api_tokens SET revoked = 1 WHERE id = ?", &[id.into()])?;
            ctx.audit(
                p,
                AuditKind::UserAdmin,
                format!("user:{owner}"),
                json!({"op": "revoke_token", "token_id": id}),
            );
            Ok(())
        })
    }

    /// The principal's own user record (no `ManageUsers` needed).
    pub fn whoami(&mut self, p: &Principal) -> Result<UserInfo> {
        let Some(user_id) = p.user_id() else {
            return Err(not_found("user", "operator"));
        };
        let mut found = None;
        self.db.read(&mut |c| {
            found = user_row(
                c,
                "u.id = ? AND u.org_id = ?",
                &[user_id.into(), p.org_id.into()],
            )
            .map_err(to_store)?;
            Ok(())
        })?;
        found.ok_or_else(|| not_found("user", user_id))
    }
}

/// A valid argon2id hash of a random password, computed once, that unknown
/// users' logins are checked against.
fn dummy_phc() -> &'static str {
    static PHC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PHC.get_or_init(|| {
        let (pw, _) =
            new_api_token().unwrap_or_else(|_| (SecretString::from("x".repeat(47)), [0; 32]));
        hash_password(pw.expose_secret()).unwrap_or_default()
    })
}

fn to_store(e: LedgerError) -> crate::store::StoreError {
    match e {
        LedgerError::Store(s) => s,
        other => crate::store::StoreError::Sql {
            statement: "user lookup".into(),
            message: other.to_string(),
        },
    }
}

fn user_row_store(
    c: &mut dyn Conn,
    org_id: i64,
    username: &str,
) -> Result<Option<UserInfo>, crate::store::StoreError> {
    user_row(
        c,
        "u.org_id = ? AND u.username = ?",
        &[org_id.into(), username.into()],
    )
    .map_err(to_store)
}
