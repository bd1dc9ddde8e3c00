//! Roles and the role × action matrix, enforced by every [`super::Ledger`]
//! method before it touches the store (not only at the HTTP edge).

use serde::{Deserialize, Serialize};

/// A user's role. A user may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Codes encounters and decides suggestions.
    Coder,
    /// Reviews and decides suggestions, verifies the audit trail, exports defence packets.
    Auditor,
    /// Builds and submits claims, posts remittances; no clinical text.
    Biller,
    /// Manages users, policy and keys; no clinical text, no coding decisions.
    Admin,
    /// Sees the work queue and reports; changes nothing.
    ReadOnly,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Coder,
        Role::Auditor,
        Role::Biller,
        Role::Admin,
        Role::ReadOnly,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coder => "coder",
            Role::Auditor => "auditor",
            Role::Biller => "biller",
            Role::Admin => "admin",
            Role::ReadOnly => "read_only",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == norm || (norm == "readonly" && *r == Role::ReadOnly))
            .ok_or_else(|| {
                format!("unknown role {s:?}; roles are coder, auditor, biller, admin, read_only")
            })
    }
}

/// Something a principal may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Store a note and its coding run (`encounter add`).
    AddEncounter,
    /// List the work queue (no PHI).
    ViewQueue,
    /// Open a note or a patient's identifiers (logged as a PHI read).
    ViewPhi,
    /// Accept, reject or edit a suggestion.
    Decide,
    /// Finalise an encounter's codes.
    Finalise,
    /// Export the audit packet (contains PHI).
    ExportPacket,
    /// Build, scrub, submit claims and record their status.
    ManageClaims,
    /// Post remittances (835) and acknowledgements.
    PostRemittance,
    /// Read reports and metrics (no PHI).
    ViewReports,
    /// Add users, grant and revoke roles, issue tokens.
    ManageUsers,
    /// Change the review policy.
    ManagePolicy,
    /// Rotate data or master keys.
    RotateKeys,
    /// Verify the audit trail.
    VerifyAudit,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 13] = [
        Action::AddEncounter,
        Action::ViewQueue,
        Action::ViewPhi,
        Action::Decide,
        Action::Finalise,
        Action::ExportPacket,
        Action::ManageClaims,
        Action::PostRemittance,
        Action::ViewReports,
        Action::ManageUsers,
        Action::ManagePolicy,
        Action::RotateKeys,
        Action::VerifyAudit,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::AddEncounter => "add_encounter",
            Action::ViewQueue => "view_queue",
            Action::ViewPhi => "view_phi",
            Action::Decide => "decide",
            Action::Finalise => "finalise",
            Action::ExportPacket => "export_packet",
            Action::ManageClaims => "manage_claims",
            Action::PostRemittance => "post_remittance",
            Action::ViewReports => "view_reports",
            Action::ManageUsers => "manage_users",
            Action::ManagePolicy => "manage_policy",
            Action::RotateKeys => "rotate_keys",
            Action::VerifyAudit => "verify_audit",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The matrix. Rows: actions; columns: coder, auditor, biller, admin, read_only.
///
/// Principles: clinical text (PHI) only for those who code or audit it;
/// coding decisions only by credentialed coders and auditors; money only by
/// billers; administration (users, policy, keys) separate from coding, so
/// an admin cannot both grant themselves and approve codes without the
/// audit trail showing it.
const MATRIX: [(Action, [bool; 5]); 13] = [
    //                          coder  auditor biller admin  read_only
    (Action::AddEncounter, [true, true, false, false, false]),
    (Action::ViewQueue, [true, true, true, true, true]),
    (Action::ViewPhi, [true, true, false, false, false]),
    (Action::Decide, [true, true, false, false, false]),
    (Action::Finalise, [true, true, false, false, false]),
    (Action::ExportPacket, [false, true, false, false, false]),
    (Action::ManageClaims, [false, false, true, false, false]),
    (Action::PostRemittance, [false, false, true, false, false]),
    (Action::ViewReports, [false, true, true, true, true]),
    (Action::ManageUsers, [false, false, false, true, false]),
    (Action::ManagePolicy, [false, false, false, true, false]),
    (Action::RotateKeys, [false, false, false, true, false]),
    (Action::VerifyAudit, [false, true, false, true, false]),
];

/// Whether `role` may perform `action`.
pub fn role_allows(role: Role, action: Action) -> bool {
    let col = Role::ALL.iter().position(|r| *r == role).unwrap_or(0);
    MATRIX
        .iter()
        .find(|(a, _)| *a == action)
        .is_some_and(|(_, row)| row[col])
}

/// Whether the local operator (the CLI holding the master key, acting
/// without `--as`) may perform `action`: everything except the human acts
/// of deciding and finalising, which must name a credentialed user.
pub fn operator_allows(action: Action) -> bool {
    !matches!(action, Action::Decide | Action::Finalise)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_covers_every_action_once() {
        for a in Action::ALL {
            assert_eq!(MATRIX.iter().filter(|(x, _)| *x == a).count(), 1, "{a}");
        }
    }

    #[test]
    fn roles_parse() {
        assert_eq!("read-only".parse::<Role>().unwrap(), Role::ReadOnly);
        assert_eq!("Auditor".parse::<Role>().unwrap(), Role::Auditor);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn separation_of_duties() {
        assert!(!role_allows(Role::Admin, Action::Decide));
        assert!(!role_allows(Role::Admin, Action::ViewPhi));
        assert!(!role_allows(Role::Biller, Action::ViewPhi));
        assert!(!role_allows(Role::Coder, Action::ManageUsers));
        assert!(!operator_allows(Action::Decide));
    }
}
