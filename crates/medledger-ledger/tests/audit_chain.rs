//! Tampering with any stored audit row (change, delete, insert, reorder) is detected.

use medledger_ledger::audit::{
    AuditChain, AuditEntry, AuditKind, ProblemKind, SigningKey, VerifyReport, VerifyingKey,
    entry_hash, from_row, to_row, verify,
};
use proptest::prelude::*;
use serde_json::json;

const KINDS: [AuditKind; 8] = [
    AuditKind::CodingRun,
    AuditKind::SuggestionDecision,
    AuditKind::Finalisation,
    AuditKind::ClaimEvent,
    AuditKind::PhiRead,
    AuditKind::UserAdmin,
    AuditKind::KeyRotation,
    AuditKind::PolicyChange,
];

const DECISIONS: [&str; 3] = ["accept", "reject", "edit"];

fn key_a() -> SigningKey {
    SigningKey::from_bytes(&[0xa1; 32])
}

fn key_b() -> SigningKey {
    SigningKey::from_bytes(&[0xb2; 32])
        .with_id("audit-2026")
        .unwrap()
}

fn at(i: u64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_760_000_000 + i as i64).unwrap()
}

fn push(chain: &mut AuditChain, rows: &mut Vec<AuditEntry>, i: u64) {
    let kind = KINDS[(i % 8) as usize];
    let detail = match kind {
        AuditKind::SuggestionDecision => {
            json!({"decision": DECISIONS[(i % 3) as usize], "code": "E11.9"})
        }
        AuditKind::PhiRead => json!({"note": i, "purpose": "treatment"}),
        _ => json!({"n": i, "tags": ["a", "b"]}),
    };
    rows.extend(
        chain
            .append(
                at(i),
                format!("org:{}", i % 3),
                format!("user:{}", i % 7),
                kind,
                format!("encounter:{i}"),
                detail,
            )
            .unwrap(),
    );
}

/// ~2,000 entries, a checkpoint every 100, and a key rotation half-way
/// (the writer is resumed from the stored last row with key B).
fn fixture() -> (Vec<AuditEntry>, Vec<VerifyingKey>) {
    let mut rows = Vec::new();
    let mut chain = AuditChain::new(key_a(), 100);
    for i in 0..1000 {
        push(&mut chain, &mut rows, i);
    }
    let mut chain = AuditChain::resume(rows.last().unwrap(), key_b(), 100).unwrap();
    for i in 1000..2000 {
        push(&mut chain, &mut rows, i);
    }
    (rows, vec![key_a().verifying_key(), key_b().verifying_key()])
}

fn index_of(rows: &[AuditEntry], seq: u64) -> usize {
    rows.iter().position(|e| e.seq == seq).unwrap()
}

/// The first checkpoint after seq.
fn next_checkpoint(rows: &[AuditEntry], seq: u64) -> u64 {
    rows.iter()
        .find(|e| e.seq > seq && e.kind == AuditKind::Checkpoint)
        .unwrap()
        .seq
}

#[track_caller]
fn assert_detected(report: &VerifyReport, kind: ProblemKind, seq: u64) {
    assert!(!report.ok, "not detected: {report}");
    assert!(
        report.has(kind, seq),
        "expected {kind:?} at {seq}: {report}"
    );
    let p = report
        .problems
        .iter()
        .find(|p| p.kind == kind && p.seq == seq)
        .unwrap();
    let grouped = seq
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    assert!(
        p.message.contains(&grouped),
        "message does not say where: {}",
        p.message
    );
}

fn rehash_from(rows: &mut [AuditEntry], from: usize) {
    for i in from..rows.len() {
        if i > 0 {
            rows[i].prev_hash = rows[i - 1].hash;
        }
        rows[i].hash = entry_hash(&rows[i]);
    }
}

#[test]
fn fixture_verifies() {
    let (rows, keys) = fixture();
    let report = verify(&rows, &keys);
    assert!(report.ok, "{report}");
    assert!(rows.len() > 2000);
    assert_eq!(report.entries, rows.len() as u64);
    // genesis + 10 (key A) + resume checkpoint + 10 (key B)
    assert_eq!(report.checkpoints, 22);
    let last_cp = rows
        .iter()
        .rev()
        .find(|e| e.kind == AuditKind::Checkpoint)
        .unwrap();
    assert_eq!(report.last_signed_seq, Some(last_cp.seq));
    assert_eq!(report.unsigned_tail, 0);
    assert!(
        rows.iter()
            .any(|e| e.key_id.as_deref() == Some("audit-2026"))
    );
    assert_eq!(rows[0].kind, AuditKind::Checkpoint);
}

#[test]
fn changed_fields_are_detected() {
    let (rows, keys) = fixture();
    let seq = 555;
    let i = index_of(&rows, seq);
    type Mutation = fn(&mut AuditEntry);
    let mutations: [(&str, Mutation); 8] = [
        ("at", |e| {
            e.at =
                e.at.checked_add(jiff::SignedDuration::from_nanos(1))
                    .unwrap()
        }),
        ("org", |e| e.org = "org:other".into()),
        ("actor", |e| e.actor.push('x')),
        ("kind", |e| e.kind = AuditKind::UserAdmin),
        ("subject", |e| e.subject = "patient:1".into()),
        ("detail", |e| e.detail["extra"] = json!(1)),
        ("prev_hash", |e| e.prev_hash[0] ^= 1),
        ("seq", |e| e.seq += 7),
    ];
    for (field, mutate) in mutations {
        let mut copy = rows.clone();
        assert_ne!(rows[i].kind, AuditKind::UserAdmin);
        mutate(&mut copy[i]);
        let report = verify(&copy, &keys);
        assert_detected(&report, ProblemKind::HashMismatch, seq);
        if field != "prev_hash" {
            assert_eq!(report.problem_count(), 1, "{field}: {report}");
        }
    }

    // The stored hash: the row no longer matches it, and the next row's link breaks.
    let mut copy = rows.clone();
    copy[i].hash[31] ^= 0x80;
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::HashMismatch, seq);
    assert_detected(&report, ProblemKind::BrokenLink, seq + 1);

    // A checkpoint's fields.
    let cp = next_checkpoint(&rows, seq);
    let c = index_of(&rows, cp);
    let mut copy = rows.clone();
    copy[c].detail["interval"] = json!(100_000);
    assert_detected(&verify(&copy, &keys), ProblemKind::HashMismatch, cp);
    let mut copy = rows.clone();
    copy[c].kind = AuditKind::PolicyChange;
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::HashMismatch, cp);
    assert_detected(&report, ProblemKind::BadSignature, cp);
}

#[test]
fn signatures_and_key_ids_are_checked() {
    let (rows, keys) = fixture();
    let cp = next_checkpoint(&rows, 300);
    let c = index_of(&rows, cp);

    let mut copy = rows.clone();
    copy[c].signature.as_mut().unwrap()[5] ^= 1;
    assert_detected(&verify(&copy, &keys), ProblemKind::BadSignature, cp);

    let mut copy = rows.clone();
    copy[c].signature.as_mut().unwrap().pop();
    assert_detected(&verify(&copy, &keys), ProblemKind::BadSignature, cp);

    let mut copy = rows.clone();
    copy[c].signature = None;
    assert_detected(&verify(&copy, &keys), ProblemKind::BadSignature, cp);

    // A signature added to an ordinary row.
    let mut copy = rows.clone();
    copy[c - 1].signature = copy[c].signature.clone();
    assert_detected(&verify(&copy, &keys), ProblemKind::BadSignature, cp - 1);
    let mut copy = rows.clone();
    copy[c - 1].key_id = Some(key_a().key_id().to_owned());
    assert_detected(&verify(&copy, &keys), ProblemKind::BadSignature, cp - 1);

    // key_id pointing at the other (known) key, or at none.
    let mut copy = rows.clone();
    copy[c].key_id = Some("audit-2026".into());
    assert_detected(&verify(&copy, &keys), ProblemKind::BadSignature, cp);
    let mut copy = rows.clone();
    copy[c].key_id = Some("nobody".into());
    assert_detected(&verify(&copy, &keys), ProblemKind::UnknownKey, cp);
    let mut copy = rows.clone();
    copy[c].key_id = None;
    assert_detected(&verify(&copy, &keys), ProblemKind::UnknownKey, cp);

    // Verifying with key B only: every key-A checkpoint is unknown.
    let report = verify(&rows, &keys[1..]);
    assert_detected(&report, ProblemKind::UnknownKey, 1);
    assert_detected(&report, ProblemKind::UnknownKey, cp);
    assert!(report.has(ProblemKind::UnknownKey, next_checkpoint(&rows, 990)));
    assert!(
        !report
            .problems
            .iter()
            .any(|p| p.kind != ProblemKind::UnknownKey)
    );
}

#[test]
fn deletions_are_detected() {
    let (rows, keys) = fixture();
    for seq in [777, 1, 2, next_checkpoint(&rows, 1200)] {
        let mut copy = rows.clone();
        copy.remove(index_of(&rows, seq));
        let report = verify(&copy, &keys);
        assert_detected(&report, ProblemKind::SequenceGap, seq + 1);
        assert_detected(&report, ProblemKind::BrokenLink, seq + 1);
    }
    // A stretch of rows.
    let mut copy = rows.clone();
    copy.drain(index_of(&rows, 400)..index_of(&rows, 450));
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::SequenceGap, 450);
    assert!(
        report.problems[0]
            .message
            .contains("entries 400 to 449 are missing"),
        "{report}"
    );
}

#[test]
fn deletion_with_renumbering_is_caught_by_the_signature() {
    let (rows, keys) = fixture();
    let mut copy = rows.clone();
    let i = index_of(&rows, 1500);
    copy.remove(i);
    for e in &mut copy[i..] {
        e.seq -= 1;
    }
    rehash_from(&mut copy, i);
    let report = verify(&copy, &keys);
    assert_detected(
        &report,
        ProblemKind::BadSignature,
        next_checkpoint(&rows, 1500) - 1,
    );
    assert!(!report.has(ProblemKind::BrokenLink, 1500));
}

#[test]
fn insertions_are_detected() {
    let (rows, keys) = fixture();
    let seq = 1234;
    let i = index_of(&rows, seq);
    // A forged row with a correct hash, linked to its predecessor.
    let mut forged = rows[i].clone();
    forged.seq = seq + 1;
    forged.prev_hash = rows[i].hash;
    forged.subject = "patient:99".into();
    forged.hash = entry_hash(&forged);
    let mut copy = rows.clone();
    copy.insert(i + 1, forged.clone());
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::SequenceOutOfOrder, seq + 1);
    assert_detected(&report, ProblemKind::BrokenLink, seq + 2);

    // ... and with every later row renumbered and re-hashed: the next checkpoint's signature fails.
    let mut copy = rows.clone();
    copy.insert(i + 1, forged);
    for e in &mut copy[i + 2..] {
        e.seq += 1;
    }
    rehash_from(&mut copy, i + 2);
    let report = verify(&copy, &keys);
    assert!(!report.has(ProblemKind::BrokenLink, seq + 2));
    assert_detected(
        &report,
        ProblemKind::BadSignature,
        next_checkpoint(&rows, seq) + 1,
    );
}

#[test]
fn reorders_and_duplicates_are_detected() {
    let (rows, keys) = fixture();
    // Adjacent swap: 901 sits between 899 and 900, which link to each other.
    let mut copy = rows.clone();
    let i = index_of(&rows, 900);
    copy.swap(i, i + 1);
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::SequenceOutOfOrder, 901);
    assert_detected(&report, ProblemKind::SequenceGap, 902);
    assert_detected(&report, ProblemKind::BrokenLink, 902);
    assert_eq!(report.problem_count(), 3, "{report}");
    // Distant swap: reported at both places, and only there.
    let mut copy = rows.clone();
    copy.swap(index_of(&rows, 100), index_of(&rows, 1800));
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::SequenceOutOfOrder, 1800);
    assert_detected(&report, ProblemKind::SequenceGap, 101);
    assert_detected(&report, ProblemKind::SequenceOutOfOrder, 100);
    assert_detected(&report, ProblemKind::SequenceGap, 1801);
    assert!(report.problem_count() <= 6, "{report}");
    assert!(
        report.to_string().contains("found out of place elsewhere"),
        "{report}"
    );
    // Duplicate right after the original, and far later.
    let mut copy = rows.clone();
    copy.insert(i + 1, rows[i].clone());
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::Duplicate, 900);
    assert_eq!(report.problem_count(), 1, "{report}");
    let mut copy = rows.clone();
    copy.insert(index_of(&rows, 1500), rows[i].clone());
    assert_detected(&verify(&copy, &keys), ProblemKind::SequenceOutOfOrder, 900);
}

#[test]
fn rewriting_without_the_key_is_detected() {
    let (rows, keys) = fixture();
    let seq = 640;
    let i = index_of(&rows, seq);
    let cp = next_checkpoint(&rows, seq);

    // Change, then recompute every hash after it; old signatures kept.
    let mut copy = rows.clone();
    copy[i].subject = "patient:12".into();
    rehash_from(&mut copy, i);
    let report = verify(&copy, &keys);
    assert_detected(&report, ProblemKind::BadSignature, cp);
    assert!(!report.has(ProblemKind::HashMismatch, seq));

    // Re-signed with the attacker's own key under its own id, or under the real id.
    for attacker in [
        SigningKey::from_bytes(&ATTACKER),
        SigningKey::from_bytes(&ATTACKER)
            .with_id(key_a().key_id())
            .unwrap(),
    ] {
        let mut copy = copy.clone();
        for e in copy
            .iter_mut()
            .filter(|e| e.kind == AuditKind::Checkpoint && e.seq >= cp)
        {
            let sig = ed25519_sign(&attacker, &e.hash);
            e.signature = Some(sig);
            e.key_id = Some(attacker.key_id().to_owned());
        }
        let report = verify(&copy, &keys);
        let kind = if attacker.key_id() == key_a().key_id() {
            ProblemKind::BadSignature
        } else {
            ProblemKind::UnknownKey
        };
        assert_detected(&report, kind, cp);
    }

    // Change, drop every later checkpoint, renumber and recompute: too long without one.
    let mut copy: Vec<AuditEntry> = rows.clone();
    copy[i].subject = "patient:12".into();
    let mut kept: Vec<AuditEntry> = copy[..i].to_vec();
    kept.extend(
        copy[i..]
            .iter()
            .filter(|e| e.kind != AuditKind::Checkpoint)
            .cloned(),
    );
    for (n, e) in kept.iter_mut().enumerate() {
        e.seq = n as u64 + 1;
    }
    rehash_from(&mut kept, i);
    let report = verify(&kept, &keys);
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.kind == ProblemKind::MissingCheckpoint),
        "{report}"
    );

    // A whole new chain under the attacker's key.
    let mut forged = rows.clone();
    let attacker = SigningKey::from_bytes(&ATTACKER);
    rehash_from(&mut forged, 0);
    for e in forged
        .iter_mut()
        .filter(|e| e.kind == AuditKind::Checkpoint)
    {
        e.signature = Some(ed25519_sign(&attacker, &e.hash));
        e.key_id = Some(attacker.key_id().to_owned());
    }
    assert_detected(&verify(&forged, &keys), ProblemKind::UnknownKey, 1);

    // The genesis checkpoint replaced by an ordinary row.
    let mut copy = rows.clone();
    copy[0].kind = AuditKind::UserAdmin;
    copy[0].signature = None;
    copy[0].key_id = None;
    rehash_from(&mut copy, 0);
    assert_detected(&verify(&copy, &keys), ProblemKind::MissingCheckpoint, 1);
}

/// Signs like the chain does (Ed25519 over the 32 hash bytes), with any seed.
fn ed25519_sign(key: &SigningKey, hash: &[u8; 32]) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let seed = if key.verifying_key().to_bytes()
        == SigningKey::from_bytes(&ATTACKER).verifying_key().to_bytes()
    {
        ATTACKER
    } else {
        panic!("only the attacker's key is signed with here")
    };
    ed25519_dalek::SigningKey::from_bytes(&seed)
        .sign(hash)
        .to_bytes()
        .to_vec()
}

const ATTACKER: [u8; 32] = [0x66; 32];

#[test]
fn truncation_is_reported_as_unsigned_tail() {
    let (rows, keys) = fixture();
    let report = verify(&rows[..1555], &keys);
    assert!(report.ok, "{report}");
    let last_cp = rows[..1555]
        .iter()
        .rev()
        .find(|e| e.kind == AuditKind::Checkpoint)
        .unwrap();
    assert_eq!(report.last_signed_seq, Some(last_cp.seq));
    assert_eq!(report.unsigned_tail, 1555 - last_cp.seq);
    assert!(report.unsigned_tail > 0);
    assert_eq!(report.head.unwrap().seq, 1555);
    let c = index_of(&rows, last_cp.seq);
    let report = verify(&rows[..=c], &keys);
    assert!(report.ok);
    assert_eq!(report.unsigned_tail, 0);
}

#[test]
fn rows_round_trip_and_serde() {
    let (rows, keys) = fixture();
    let back: Vec<AuditEntry> = rows
        .iter()
        .map(|e| from_row(to_row(e).unwrap()).unwrap())
        .collect();
    assert_eq!(back, rows);
    assert!(verify(&back, &keys).ok);
    let json = serde_json::to_string(&rows[0]).unwrap();
    assert!(json.contains(&format!("\"hash\":\"{}\"", hex::encode(rows[0].hash))));
    assert!(json.contains("\"kind\":\"checkpoint\""));
    let again: AuditEntry = serde_json::from_str(&json).unwrap();
    assert_eq!(again, rows[0]);
}

// ---- property tests ----

#[derive(Debug, Clone)]
enum Mutation {
    Field(usize, u8),
    Delete(usize),
    Swap(usize, usize),
    Duplicate(usize, usize),
    InsertForged(usize),
}

fn arb_chain() -> impl Strategy<Value = Vec<AuditEntry>> {
    (
        1u64..12,
        prop::collection::vec(
            (0usize..8, "[a-z0-9:]{0,12}", any::<i32>(), any::<u16>()),
            1..120,
        ),
    )
        .prop_map(|(interval, items)| {
            let mut chain = AuditChain::new(key_a(), interval);
            let mut rows = Vec::new();
            for (n, (k, subject, x, dt)) in items.into_iter().enumerate() {
                let at =
                    jiff::Timestamp::from_second(1_700_000_000 + n as i64 * 60 + i64::from(dt))
                        .unwrap();
                rows.extend(
                    chain
                        .append(
                            at,
                            "org:1",
                            format!("user:{k}"),
                            KINDS[k],
                            subject,
                            json!({"x": x}),
                        )
                        .unwrap(),
                );
            }
            rows
        })
}

fn apply(rows: &mut Vec<AuditEntry>, m: &Mutation) {
    let n = rows.len();
    match *m {
        Mutation::Field(i, f) => {
            let e = &mut rows[i % n];
            match f % 11 {
                0 => e.seq = e.seq.wrapping_add(1),
                1 => {
                    e.at =
                        e.at.checked_add(jiff::SignedDuration::from_nanos(1))
                            .unwrap()
                }
                2 => e.org.push('!'),
                3 => e.actor.push('!'),
                4 => {
                    e.kind = if e.kind == AuditKind::PhiRead {
                        AuditKind::CodingRun
                    } else {
                        AuditKind::PhiRead
                    }
                }
                5 => e.subject.push('!'),
                6 => e.detail = json!({"changed": true}),
                7 => e.prev_hash[7] ^= 4,
                8 => e.hash[0] ^= 1,
                9 => match &mut e.signature {
                    Some(s) => s[0] ^= 1,
                    None => e.signature = Some(vec![0; 64]),
                },
                _ => {
                    e.key_id = match &e.key_id {
                        Some(_) => None,
                        None => Some("x".into()),
                    }
                }
            }
        }
        // Removing the last row is truncation, which is undetectable by design.
        Mutation::Delete(i) => {
            rows.remove(i % (n - 1));
        }
        Mutation::Swap(i, j) => {
            let (i, j) = (i % n, j % n);
            let j = if i == j { (j + 1) % n } else { j };
            rows.swap(i, j);
        }
        Mutation::Duplicate(i, p) => {
            let copy = rows[i % n].clone();
            rows.insert(p % (n + 1), copy);
        }
        // A forged, correctly hashed row anywhere but at the end (where it
        // would extend the unsigned tail; see the module docs).
        Mutation::InsertForged(i) => {
            let i = i % (n - 1);
            let mut forged = rows[i].clone();
            forged.seq += 1;
            forged.prev_hash = rows[i].hash;
            forged.subject.push_str(":forged");
            forged.hash = entry_hash(&forged);
            forged.signature = None;
            forged.key_id = None;
            if forged.kind == AuditKind::Checkpoint {
                forged.kind = AuditKind::PhiRead;
                forged.hash = entry_hash(&forged);
            }
            rows.insert(i + 1, forged);
        }
    }
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, f)| Mutation::Field(i, f)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, p)| Mutation::Duplicate(i, p)),
        any::<usize>().prop_map(Mutation::InsertForged),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_single_mutation_is_detected(rows in arb_chain(), m in arb_mutation()) {
        let keys = [key_a().verifying_key()];
        prop_assume!(rows.len() >= 2);
        let clean = verify(&rows, &keys);
        prop_assert!(clean.ok, "{}", clean);
        let mut copy = rows.clone();
        apply(&mut copy, &m);
        prop_assert_ne!(&copy, &rows);
        let report = verify(&copy, &keys);
        prop_assert!(!report.ok, "{:?} not detected", m);
    }

    #[test]
    fn rows_round_trip(
        seq in 1u64..=i64::MAX as u64,
        ns in -10_000_000_000_000_000_000i128..10_000_000_000_000_000_000i128,
        org in ".*",
        actor in ".*",
        k in 0usize..9,
        subject in ".*",
        detail in prop::collection::btree_map(".*", prop_oneof![
            any::<i64>().prop_map(|i| json!(i)),
            ".*".prop_map(|s| json!(s)),
            any::<bool>().prop_map(|b| json!([b, null])),
        ], 0..5),
        prev in any::<[u8; 32]>(),
        hash in any::<[u8; 32]>(),
        sig in prop::option::of(prop::collection::vec(any::<u8>(), 0..80)),
        key_id in prop::option::of("[a-z0-9-]{1,20}"),
    ) {
        let kind = if k == 8 { AuditKind::Checkpoint } else { KINDS[k] };
        let e = AuditEntry {
            seq,
            at: jiff::Timestamp::from_nanosecond(ns).unwrap(),
            org, actor, kind, subject,
            detail: serde_json::to_value(detail).unwrap(),
            prev_hash: prev,
            hash,
            signature: sig,
            key_id,
        };
        let row = to_row(&e).unwrap();
        prop_assert_eq!(&from_row(row).unwrap(), &e);
        let json = serde_json::to_string(&e).unwrap();
        prop_assert_eq!(&serde_json::from_str::<AuditEntry>(&json).unwrap(), &e);
    }
}
