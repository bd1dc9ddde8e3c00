//! PHI at rest: envelope encryption, isolation, rotation, key files, blind indexes, passwords
//! and tokens, through the public `crypto` API only.

use std::fs;
use std::path::Path;

use medledger_ledger::crypto::{
    Aad, CryptoError, DataKey, KeySource, Keyring, MASTER_KEY_ENV, MASTER_KEY_FILE_NAME,
    MASTER_KEY_PREFIX, MasterKey, blind_index, blind_index_parts, blob_key_version, hash_password,
    new_api_token, open, reseal, rewrap_all, seal, verify_password, verify_token,
};
use proptest::prelude::*;
use secrecy::ExposeSecret;

const NOTE: &str = "Patient Jane Q. Doe, DOB 1980-02-03, seen for poorly controlled type 2 \
                    diabetes with diabetic chronic kidney disease stage 3a. HbA1c 9.1%.";
const PATIENT_NAME: &str = "Jane Q. Doe";

fn aad<'a>(org: &'a str, row: &'a str) -> Aad<'a> {
    Aad::new(org, "notes", "text", row)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_no_window(blob: &[u8], plaintext: &[u8], window: usize) {
    if plaintext.len() < window {
        return;
    }
    for w in plaintext.windows(window) {
        assert!(
            !contains(blob, w),
            "ciphertext contains an {window}-byte plaintext window"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips and bindings

#[test]
fn note_round_trips_and_ciphertext_holds_no_plaintext() {
    let ring = Keyring::new("org-a").unwrap();
    let a = aad("org-a", "note-1");
    let blob = ring.seal(&a, NOTE.as_bytes()).unwrap();
    assert_eq!(ring.open(&a, &blob).unwrap(), NOTE.as_bytes());
    assert!(!contains(&blob, NOTE.as_bytes()));
    assert!(!contains(&blob, PATIENT_NAME.as_bytes()));
    assert!(!contains(&blob, b"Doe"));
    assert_no_window(&blob, NOTE.as_bytes(), 8);
    // Neither as the hex a store might write.
    let hex = hex::encode(&blob);
    assert!(!hex.contains(PATIENT_NAME) && !hex.contains("diabetes"));

    let name = aad("org-a", "patient-1");
    let name = Aad {
        table: "patients",
        column: "name",
        ..name
    };
    let blob = ring.seal(&name, PATIENT_NAME.as_bytes()).unwrap();
    assert!(!contains(&blob, PATIENT_NAME.as_bytes()));
    assert_eq!(ring.open(&name, &blob).unwrap(), PATIENT_NAME.as_bytes());
}

#[test]
fn free_functions_with_a_data_key() {
    let key = DataKey::generate().unwrap();
    let a = aad("org-a", "r1");
    let blob = seal(&key, 5, &a, b"free").unwrap();
    assert_eq!(blob_key_version(&blob).unwrap(), 5);
    assert_eq!(open(&key, &a, &blob).unwrap(), b"free");
}

#[test]
fn wrong_aad_fails() {
    let ring = Keyring::new("org-a").unwrap();
    let right = Aad::new("org-a", "notes", "text", "row-1");
    let blob = ring.seal(&right, NOTE.as_bytes()).unwrap();
    let wrong = [
        Aad {
            row: "row-2",
            ..right
        },
        Aad {
            row: "row-1 ",
            ..right
        },
        Aad {
            column: "summary",
            ..right
        },
        Aad {
            table: "claims",
            ..right
        },
    ];
    for w in wrong {
        let err = ring.open(&w, &blob).unwrap_err();
        assert!(matches!(err, CryptoError::Open { .. }), "{err:?}");
        assert!(!err.to_string().contains("Doe"));
    }
    // Another organisation's AAD on this keyring is refused outright …
    let other_org = Aad {
        org: "org-b",
        ..right
    };
    assert!(matches!(
        ring.open(&other_org, &blob),
        Err(CryptoError::OrgMismatch { .. })
    ));
    // … and with the bare data key it fails authentication.
    let key = ring.key(ring.current_version()).unwrap();
    assert!(matches!(
        open(key, &other_org, &blob),
        Err(CryptoError::Open { .. })
    ));
    assert_eq!(open(key, &right, &blob).unwrap(), NOTE.as_bytes());
}

#[test]
fn every_tampered_byte_fails() {
    let ring = Keyring::new("org-a").unwrap();
    let a = aad("org-a", "r");
    let blob = ring.seal(&a, b"short note").unwrap();
    for i in 0..blob.len() {
        for bit in [0x01u8, 0x80] {
            let mut t = blob.clone();
            t[i] ^= bit;
            assert!(ring.open(&a, &t).is_err(), "byte {i} bit {bit:#x}");
        }
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert!(ring.open(&a, &longer).is_err());
    assert!(ring.open(&a, &blob[..blob.len() - 1]).is_err());
}

#[test]
fn organisations_are_isolated() {
    let master = MasterKey::generate().unwrap();
    let ring_a = Keyring::new("org-a").unwrap();
    let ring_b = Keyring::new("org-b").unwrap();
    let blob_b = ring_b.seal(&aad("org-b", "r1"), NOTE.as_bytes()).unwrap();
    // A's keyring refuses B's blob, whichever AAD it is given.
    assert!(ring_a.open(&aad("org-b", "r1"), &blob_b).is_err());
    assert!(ring_a.open(&aad("org-a", "r1"), &blob_b).is_err());
    // A blob of A copied into B's table fails for B.
    let blob_a = ring_a.seal(&aad("org-a", "r1"), NOTE.as_bytes()).unwrap();
    assert!(ring_b.open(&aad("org-b", "r1"), &blob_a).is_err());
    // A's wrapped keys cannot be loaded as B's.
    let wrapped_a = ring_a.wrap_all(&master).unwrap();
    assert!(Keyring::from_wrapped(&master, "org-b", &wrapped_a).is_err());
    let mut relabelled = wrapped_a.clone();
    relabelled[0].org = "org-b".into();
    assert!(matches!(
        Keyring::from_wrapped(&master, "org-b", &relabelled),
        Err(CryptoError::Unwrap { .. })
    ));
    // Sealing for another org is refused.
    assert!(ring_a.seal(&aad("org-b", "r2"), b"x").is_err());
}

// ---------------------------------------------------------------------------------------------
// Wrapping and rotation

#[test]
fn wrapped_keys_reload_and_wrong_master_fails() {
    let master = MasterKey::generate().unwrap();
    let ring = Keyring::new("org-a").unwrap();
    let a = aad("org-a", "r1");
    let blob = ring.seal(&a, NOTE.as_bytes()).unwrap();
    let wrapped = ring.wrap_all(&master).unwrap();
    let json = serde_json::to_string(&wrapped).unwrap();
    let reloaded: Vec<medledger_ledger::crypto::WrappedKey> = serde_json::from_str(&json).unwrap();
    let ring2 = Keyring::from_wrapped(&master, "org-a", &reloaded).unwrap();
    assert_eq!(ring2.open(&a, &blob).unwrap(), NOTE.as_bytes());

    let other = MasterKey::generate().unwrap();
    let err = Keyring::from_wrapped(&other, "org-a", &reloaded).unwrap_err();
    assert!(matches!(err, CryptoError::Unwrap { ref org, version: 1 } if org == "org-a"));
    assert!(err.to_string().contains("org-a"));
}

#[test]
fn data_key_rotation() {
    let master = MasterKey::generate().unwrap();
    let mut ring = Keyring::new("org-a").unwrap();
    let a = aad("org-a", "r1");
    let old_blob = ring.seal(&a, NOTE.as_bytes()).unwrap();
    assert_eq!(blob_key_version(&old_blob).unwrap(), 1);

    assert_eq!(ring.rotate().unwrap(), 2);
    assert_eq!(ring.current_version(), 2);
    // Old blobs still open; new blobs use version 2.
    assert_eq!(ring.open(&a, &old_blob).unwrap(), NOTE.as_bytes());
    let new_blob = ring.seal(&a, b"after rotation").unwrap();
    assert_eq!(blob_key_version(&new_blob).unwrap(), 2);

    // Reseal moves the old blob to the current version.
    let moved = reseal(&ring, &a, &old_blob).unwrap();
    assert_eq!(blob_key_version(&moved).unwrap(), 2);
    assert_eq!(ring.open(&a, &moved).unwrap(), NOTE.as_bytes());
    assert!(reseal(&ring, &aad("org-a", "r2"), &old_blob).is_err());

    // Stored and reloaded, the keyring still reads both versions.
    let reloaded =
        Keyring::from_wrapped(&master, "org-a", &ring.wrap_all(&master).unwrap()).unwrap();
    assert_eq!(reloaded.current_version(), 2);
    assert_eq!(reloaded.open(&a, &old_blob).unwrap(), NOTE.as_bytes());

    // After retiring version 1, only resealed blobs open.
    assert!(ring.retire(1));
    assert!(matches!(
        ring.open(&a, &old_blob),
        Err(CryptoError::UnknownKeyVersion { version: 1, .. })
    ));
    assert_eq!(ring.open(&a, &moved).unwrap(), NOTE.as_bytes());
}

#[test]
fn master_key_rotation_rewraps_without_touching_fields() {
    let old = MasterKey::generate().unwrap();
    let new = MasterKey::generate().unwrap();
    let mut ring_a = Keyring::new("org-a").unwrap();
    ring_a.rotate().unwrap();
    let ring_b = Keyring::new("org-b").unwrap();
    let blob = ring_a.seal(&aad("org-a", "r1"), NOTE.as_bytes()).unwrap();

    let mut wrapped = ring_a.wrap_all(&old).unwrap();
    wrapped.extend(ring_b.wrap_all(&old).unwrap());
    let rewrapped = rewrap_all(&wrapped, &old, &new).unwrap();
    assert_eq!(rewrapped.len(), 3);
    for (w, r) in wrapped.iter().zip(&rewrapped) {
        assert_eq!((&w.org, w.version), (&r.org, r.version));
        assert_eq!(r.master_key_id, new.key_id());
        assert_ne!(r.ciphertext, w.ciphertext);
        assert!(r.unwrap(&new).is_ok());
        assert!(
            r.unwrap(&old).is_err(),
            "old master must not unwrap rewrapped keys"
        );
    }
    let a_keys: Vec<_> = rewrapped
        .iter()
        .filter(|w| w.org == "org-a")
        .cloned()
        .collect();
    let ring = Keyring::from_wrapped(&new, "org-a", &a_keys).unwrap();
    assert_eq!(
        ring.open(&aad("org-a", "r1"), &blob).unwrap(),
        NOTE.as_bytes()
    );

    // Rewrapping with the wrong "old" key fails and returns nothing.
    assert!(matches!(
        rewrap_all(&rewrapped, &old, &new),
        Err(CryptoError::Unwrap { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Master key sources and key files

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn key_file_created_once_then_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let (k1, src1) = MasterKey::from_env_or_file(None, None, &data_dir).unwrap();
    let path = data_dir.join(MASTER_KEY_FILE_NAME);
    assert_eq!(src1, KeySource::Created(path.clone()));
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(MASTER_KEY_PREFIX) && text.ends_with('\n'));
    assert_eq!(text.trim().len(), MASTER_KEY_PREFIX.len() + 64);

    let (k2, src2) = MasterKey::from_env_or_file(None, None, &data_dir).unwrap();
    assert_eq!(
        src2,
        KeySource::File {
            path: path.clone(),
            loose_mode: None
        }
    );
    assert!(src2.warning().is_none());
    assert_eq!(k1.key_id(), k2.key_id());
    assert_eq!(fs::read_to_string(&path).unwrap(), text, "never rewritten");
    // No temporary files left behind.
    assert_eq!(fs::read_dir(&data_dir).unwrap().count(), 1);
    // Data wrapped on first run unwraps on the second.
    let w = DataKey::generate().unwrap().wrap(&k1, "org-a", 1).unwrap();
    assert!(w.unwrap(&k2).is_ok());
}

#[test]
fn write_key_file_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let k = MasterKey::generate().unwrap();
    k.write_key_file(&path).unwrap();
    let before = fs::read(&path).unwrap();
    let err = MasterKey::generate()
        .unwrap()
        .write_key_file(&path)
        .unwrap_err();
    assert!(matches!(err, CryptoError::KeyFile { .. }));
    assert_eq!(fs::read(&path).unwrap(), before);
    let (loaded, _) = MasterKey::load_file(&path).unwrap();
    assert_eq!(loaded.key_id(), k.key_id());
}

#[test]
fn env_beats_file_beats_default() {
    let dir = tempfile::tempdir().unwrap();
    let env_key = MasterKey::generate().unwrap();
    let file_key = MasterKey::generate().unwrap();
    let file = dir.path().join("given.key");
    file_key.write_key_file(&file).unwrap();
    let env_text = env_key.to_key_text();

    let (k, src) =
        MasterKey::from_env_or_file(Some(env_text.expose_secret()), Some(&file), dir.path())
            .unwrap();
    assert_eq!(src, KeySource::Env);
    assert_eq!(k.key_id(), env_key.key_id());

    let (k, src) = MasterKey::from_env_or_file(None, Some(&file), dir.path()).unwrap();
    assert_eq!(src.path(), Some(file.as_path()));
    assert_eq!(k.key_id(), file_key.key_id());
    // Neither source created a default key file.
    assert!(!dir.path().join(MASTER_KEY_FILE_NAME).exists());

    // A missing --master-key-file is an error, not a reason to create one.
    let missing = dir.path().join("missing.key");
    assert!(matches!(
        MasterKey::from_env_or_file(None, Some(&missing), dir.path()),
        Err(CryptoError::KeyFile { .. })
    ));
    assert!(!missing.exists());
}

#[test]
fn accepts_openssl_style_keys() {
    let dir = tempfile::tempdir().unwrap();
    let hex = "8f".repeat(32);
    let (a, _) = MasterKey::from_env_or_file(Some(&hex), None, dir.path()).unwrap();
    let b64 = "j4+Pj4+Pj4+Pj4+Pj4+Pj4+Pj4+Pj4+Pj4+Pj4+Pj48=";
    let (b, _) = MasterKey::from_env_or_file(Some(b64), None, dir.path()).unwrap();
    assert_eq!(a.key_id(), b.key_id());
    let file = dir.path().join("hex.key");
    fs::write(&file, format!("{hex}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (c, _) = MasterKey::from_env_or_file(None, Some(&file), dir.path()).unwrap();
    assert_eq!(a.key_id(), c.key_id());
}

#[test]
fn malformed_key_material_is_rejected_without_echo() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "Tr0ub4dor&3-not-a-key";
    let inputs = [
        secret.to_string(),
        format!("{MASTER_KEY_PREFIX}{secret}"),
        format!("{MASTER_KEY_PREFIX}{}", "ab".repeat(31)),
        format!("{MASTER_KEY_PREFIX}{}", "ab".repeat(33)),
        format!("{}{secret}", "a".repeat(64 - secret.len())),
        String::new(),
    ];
    for input in &inputs {
        let err = MasterKey::from_env_or_file(Some(input), None, dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, CryptoError::MalformedMasterKey { .. }),
            "{msg}"
        );
        assert!(msg.contains(MASTER_KEY_ENV), "{msg}");
        assert!(!msg.contains(secret), "{msg}");
        let body = input.trim_start_matches(MASTER_KEY_PREFIX);
        if !body.is_empty() {
            assert!(!msg.contains(body), "{msg}");
            assert!(!format!("{err:?}").contains(body));
        }
    }
    // Same from a file; the default file is never created on a failed load either.
    let file = dir.path().join("bad.key");
    fs::write(&file, format!("{MASTER_KEY_PREFIX}{secret}\n")).unwrap();
    let err = MasterKey::from_env_or_file(None, Some(&file), dir.path()).unwrap_err();
    assert!(err.to_string().contains("bad.key"));
    assert!(!err.to_string().contains(secret));
    let default = dir.path().join(MASTER_KEY_FILE_NAME);
    fs::write(&default, "garbage\n").unwrap();
    assert!(MasterKey::from_env_or_file(None, None, dir.path()).is_err());
    assert_eq!(fs::read_to_string(&default).unwrap(), "garbage\n");
    // Oversized files are refused unread.
    fs::write(&file, vec![b'a'; 10_000]).unwrap();
    assert!(matches!(
        MasterKey::load_file(&file),
        Err(CryptoError::MalformedMasterKey { .. })
    ));
}

#[cfg(unix)]
#[test]
fn loose_key_file_permissions_warn() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loose.key");
    MasterKey::generate()
        .unwrap()
        .write_key_file(&file)
        .unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    let (_, src) = MasterKey::from_env_or_file(None, Some(&file), dir.path()).unwrap();
    assert_eq!(
        src,
        KeySource::File {
            path: file.clone(),
            loose_mode: Some(0o644)
        }
    );
    let warning = src.warning().unwrap();
    assert!(
        warning.contains("0644") && warning.contains("chmod 600"),
        "{warning}"
    );
}

#[test]
fn master_key_debug_is_redacted() {
    let k = MasterKey::generate().unwrap();
    let text = k.to_key_text();
    let hex = text.expose_secret().trim_start_matches(MASTER_KEY_PREFIX);
    let dbg = format!("{k:?}");
    assert_eq!(dbg, format!("MasterKey(<redacted>, id={})", k.key_id()));
    assert!(!dbg.contains(&hex[..16]));
    assert!(!format!("{text:?}").contains(hex));
}

// ---------------------------------------------------------------------------------------------
// Blind indexes

#[test]
fn blind_index_equivalence_and_org_separation() {
    let ring_a = Keyring::new("org-a").unwrap();
    let ring_b = Keyring::new("org-b").unwrap();
    let ka = ring_a.blind_index_key().unwrap();
    let kb = ring_b.blind_index_key().unwrap();
    let f = "patient.name_dob";
    let x = blind_index_parts(&ka, f, &["José  García", "1980-02-03"]);
    assert_eq!(
        x,
        blind_index_parts(&ka, f, &[" JOSE garcia ", "1980-02-03"])
    );
    assert_eq!(
        x,
        blind_index_parts(&ka, f, &["Jose\u{301}\tGarci\u{301}a", "1980-02-03"])
    );
    assert_ne!(x, blind_index_parts(&ka, f, &["José García", "1980-02-04"]));
    assert_ne!(x, blind_index_parts(&kb, f, &["José García", "1980-02-03"]));
    assert_eq!(
        blind_index(&ka, "patient.name", "Jane Doe"),
        blind_index(&ka, "patient.name", "jane   DOE")
    );
    assert_ne!(
        blind_index(&ka, "patient.name", "Jane Doe"),
        blind_index(&kb, "patient.name", "Jane Doe")
    );
    // Stable across reloads; changes on rotation (rotation pass recomputes indexes).
    let master = MasterKey::generate().unwrap();
    let mut reloaded =
        Keyring::from_wrapped(&master, "org-a", &ring_a.wrap_all(&master).unwrap()).unwrap();
    let kr = reloaded.blind_index_key().unwrap();
    assert_eq!(
        blind_index(&kr, "patient.name", "Jane Doe"),
        blind_index(&ka, "patient.name", "Jane Doe")
    );
    reloaded.rotate().unwrap();
    let keys = reloaded.blind_index_keys().unwrap();
    assert_eq!(keys.iter().map(|(v, _)| *v).collect::<Vec<_>>(), vec![2, 1]);
    assert_ne!(
        blind_index(&keys[0].1, "patient.name", "Jane Doe"),
        blind_index(&ka, "patient.name", "Jane Doe")
    );
    assert_eq!(
        blind_index(&keys[1].1, "patient.name", "Jane Doe"),
        blind_index(&ka, "patient.name", "Jane Doe")
    );
    // The index is not the value.
    assert!(!contains(&x, b"jose"));
}

// ---------------------------------------------------------------------------------------------
// Passwords and tokens

#[test]
fn passwords_verify_and_deny() {
    let phc = hash_password("s3cure-Passphrase!").unwrap();
    assert!(phc.starts_with("$argon2id$"));
    assert!(!phc.contains("s3cure"));
    assert!(verify_password(&phc, "s3cure-Passphrase!"));
    assert!(!verify_password(&phc, "s3cure-passphrase!"));
    assert!(!verify_password("$argon2id$garbage", "s3cure-Passphrase!"));
}

#[test]
fn tokens_verify_and_deny() {
    let (token, stored) = new_api_token().unwrap();
    let t = token.expose_secret();
    assert!(t.starts_with("mlt_"));
    assert!(verify_token(&stored, t));
    let mut wrong = t.to_string();
    wrong.pop();
    wrong.push('!');
    assert!(!verify_token(&stored, &wrong));
    assert!(!verify_token(&[0u8; 32], t));
    assert!(!contains(&stored, t.as_bytes()));
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn open_never_panics_on_arbitrary_blobs(
        blob in prop::collection::vec(any::<u8>(), 0..128),
        row in "[a-z0-9-]{0,12}",
    ) {
        let ring = Keyring::new("org-a").unwrap();
        let key = DataKey::generate().unwrap();
        let a = Aad::new("org-a", "notes", "text", &row);
        prop_assert!(ring.open(&a, &blob).is_err());
        prop_assert!(open(&key, &a, &blob).is_err());
        let _ = blob_key_version(&blob);
        prop_assert!(reseal(&ring, &a, &blob).is_err());
    }

    #[test]
    fn open_never_panics_on_mutated_blobs(
        plaintext in prop::collection::vec(any::<u8>(), 0..64),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let ring = Keyring::new("org-a").unwrap();
        let a = aad("org-a", "r");
        let mut blob = ring.seal(&a, &plaintext).unwrap();
        let original = blob.clone();
        for (at, xor) in &edits {
            let i = at.index(blob.len());
            blob[i] ^= xor.max(&1);
        }
        if blob != original {
            prop_assert!(ring.open(&a, &blob).is_err());
        }
        let n = cut.index(original.len());
        prop_assert!(ring.open(&a, &original[..n]).is_err());
    }

    #[test]
    fn ciphertext_never_contains_plaintext_windows(
        note in "[ -~]{8,300}",
    ) {
        let ring = Keyring::new("org-a").unwrap();
        let a = aad("org-a", "note-9");
        let blob = ring.seal(&a, note.as_bytes()).unwrap();
        prop_assert!(!contains(&blob, note.as_bytes()));
        for w in note.as_bytes().windows(8) {
            prop_assert!(!contains(&blob, w));
        }
        prop_assert_eq!(ring.open(&a, &blob).unwrap(), note.as_bytes());
    }

    #[test]
    fn malformed_env_values_never_echo(value in "[ -~]{6,80}") {
        let dir = std::env::temp_dir();
        if let Err(err) = MasterKey::from_env_or_file(Some(&value), None, &dir) {
            let body = value.trim();
            let body = body.strip_prefix(MASTER_KEY_PREFIX).unwrap_or(body);
            if body.len() >= 6 {
                prop_assert!(!err.to_string().contains(body));
            }
        }
    }
}
