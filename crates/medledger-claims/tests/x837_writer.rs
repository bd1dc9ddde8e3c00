//! The 837 writer without pyx12: envelopes and counts, the hierarchy, the
//! claim segments, errors, and one whole 837P compared segment by segment.

use medledger_claims::model::{
    Address, Claim, ClaimKind, Diagnosis, Frequency, Institutional, OtherPayer, Payer, Person,
    Provider, Responsibility, ServiceLine, Subscriber,
};
use medledger_claims::x837::{
    Envelope, INSTITUTIONAL_VERSION, PROFESSIONAL_VERSION, Receiver, Submitter, X837Error,
    check_claim, write_837,
};

fn envelope() -> Envelope {
    let mut env = Envelope::new(
        "MEDLEDGER",
        "CLEARHOUSE",
        Submitter {
            name: "Medledger Billing".into(),
            id: "MLB001".into(),
            contact_name: "Edi Desk".into(),
            phone: Some("(555) 555-0100".into()),
            email: None,
        },
        Receiver {
            name: "Clear House".into(),
            id: "CH01".into(),
        },
        jiff::civil::date(2026, 1, 2).at(3, 4, 0, 0),
    );
    env.interchange_control_number = 42;
    env.group_control_number = 7;
    env.batch_reference = "B20260102".into();
    env.newline = true;
    env
}

fn addr(lines: &[&str], city: &str, state: &str, zip: &str) -> Address {
    Address {
        lines: lines.iter().map(|s| (*s).to_owned()).collect(),
        city: city.into(),
        state: state.into(),
        zip: zip.into(),
    }
}

fn line(code: &str, mods: &[&str], cents: i64, ptrs: &[u8]) -> ServiceLine {
    ServiceLine {
        procedure: Some(code.into()),
        modifiers: mods.iter().map(|s| (*s).to_owned()).collect(),
        revenue_code: None,
        units: 1.0,
        charge_cents: cents,
        date_from: "2025-12-01".into(),
        date_to: None,
        place_of_service: None,
        diagnosis_pointers: ptrs.to_vec(),
        ndc: None,
    }
}

fn professional() -> Claim {
    Claim {
        id: "PCN-1001".into(),
        kind: ClaimKind::Professional,
        frequency: Frequency::Original,
        original_reference: None,
        encounter: None,
        billing_provider: Provider {
            npi: "1234567893".into(),
            last_or_org_name: "Riverside Family Clinic".into(),
            first_name: None,
            taxonomy: Some("207Q00000X".into()),
            tax_id: Some("12-3456789".into()),
            address: Some(addr(
                &["100 Main St", "Suite 2"],
                "Springfield",
                "IL",
                "62701-1234",
            )),
        },
        rendering_provider: Some(Provider {
            npi: "9876543213".into(),
            last_or_org_name: "Welby".into(),
            first_name: Some("Marcus".into()),
            taxonomy: Some("207Q00000X".into()),
            tax_id: None,
            address: None,
        }),
        referring_provider: None,
        payer: Payer {
            id: "ACME1".into(),
            name: "Acme Health Plan".into(),
            filing_indicator: "CI".into(),
        },
        responsibility: Responsibility::Primary,
        subscriber: Subscriber {
            member_id: "W123456789".into(),
            group_number: Some("GRP-77".into()),
            person: Person {
                last_name: "O'Doe-Smith".into(),
                first_name: "Jane*".into(),
                dob: "1980-02-15".into(),
                sex: "F".into(),
                address: Some(addr(&["12 Elm St"], "Springfield", "IL", "62704")),
            },
            relationship: "18".into(),
        },
        patient: None,
        other_payers: vec![],
        prior_authorization: Some("AUTH-9".into()),
        place_of_service: Some("11".into()),
        diagnoses: vec![
            Diagnosis {
                code: "E119".into(),
                poa: None,
            },
            Diagnosis {
                code: "I10".into(),
                poa: None,
            },
        ],
        lines: vec![
            line("99214", &["25"], 15000, &[1, 2]),
            line("36415", &[], 3550, &[1]),
        ],
        institutional: None,
    }
}

fn institutional() -> Claim {
    let mut c = professional();
    c.id = "UB-2001".into();
    c.kind = ClaimKind::Institutional;
    c.place_of_service = None;
    c.rendering_provider = None;
    c.billing_provider.last_or_org_name = "Riverside Hospital".into();
    c.billing_provider.taxonomy = Some("282N00000X".into());
    c.diagnoses = (0..14)
        .map(|i| Diagnosis {
            code: format!("R{:02}", 10 + i),
            poa: Some(["Y", "N", "1", "W"][i % 4].into()),
        })
        .collect();
    c.lines = vec![
        ServiceLine {
            procedure: None,
            modifiers: vec![],
            revenue_code: Some("0120".into()),
            units: 3.0,
            charge_cents: 300_000,
            date_from: "2025-12-01".into(),
            date_to: Some("2025-12-03".into()),
            place_of_service: None,
            diagnosis_pointers: vec![],
            ndc: None,
        },
        ServiceLine {
            procedure: Some("J1885".into()),
            modifiers: vec!["JW".into()],
            revenue_code: Some("0636".into()),
            units: 2.5,
            charge_cents: 1205,
            date_from: "2025-12-02".into(),
            date_to: None,
            place_of_service: None,
            diagnosis_pointers: vec![],
            ndc: Some("00409378001".into()),
        },
    ];
    c.institutional = Some(Institutional {
        type_of_bill: "011".into(),
        admission_date: Some("2025-12-01".into()),
        admission_hour: Some("07".into()),
        admission_type: Some("1".into()),
        admission_source: Some("7".into()),
        discharge_hour: Some("15".into()),
        patient_status: "01".into(),
        statement_from: "2025-12-01".into(),
        statement_to: "2025-12-03".into(),
        attending: Some(Provider {
            npi: "1111111112".into(),
            last_or_org_name: "House".into(),
            first_name: Some("Greg".into()),
            taxonomy: Some("207R00000X".into()),
            tax_id: None,
            address: None,
        }),
        drg: Some("470".into()),
    });
    c.frequency = Frequency::Replacement;
    c.original_reference = Some("PAYER-CCN-55".into());
    c
}

/// Segments as element lists (newline and terminator stripped).
fn segments(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("ASCII");
    text.split('~')
        .map(|s| s.trim_matches(['\n', '\r']))
        .filter(|s| !s.is_empty())
        .map(|s| s.split('*').map(str::to_owned).collect())
        .collect()
}

#[test]
fn snapshot_837p() {
    let out = write_837(&[professional()], &envelope()).unwrap();
    let expected = "\
ISA*00*          *00*          *ZZ*MEDLEDGER      *ZZ*CLEARHOUSE     *260102*0304*^*00501*000000042*0*T*:~
GS*HC*MEDLEDGER*CLEARHOUSE*20260102*0304*7*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*B20260102*20260102*0304*CH~
NM1*41*2*MEDLEDGER BILLING*****46*MLB001~
PER*IC*EDI DESK*TE*5555550100~
NM1*40*2*CLEAR HOUSE*****46*CH01~
HL*1**20*1~
PRV*BI*PXC*207Q00000X~
NM1*85*2*RIVERSIDE FAMILY CLINIC*****XX*1234567893~
N3*100 MAIN ST*SUITE 2~
N4*SPRINGFIELD*IL*627011234~
REF*EI*123456789~
HL*2*1*22*0~
SBR*P*18*GRP-77******CI~
NM1*IL*1*O'DOE-SMITH*JANE****MI*W123456789~
N3*12 ELM ST~
N4*SPRINGFIELD*IL*62704~
DMG*D8*19800215*F~
NM1*PR*2*ACME HEALTH PLAN*****PI*ACME1~
CLM*PCN-1001*185.5***11:B:1*Y*A*Y*Y~
REF*G1*AUTH-9~
HI*ABK:E119*ABF:I10~
NM1*82*1*WELBY*MARCUS****XX*9876543213~
PRV*PE*PXC*207Q00000X~
LX*1~
SV1*HC:99214:25*150*UN*1***1:2~
DTP*472*D8*20251201~
LX*2~
SV1*HC:36415*35.5*UN*1***1~
DTP*472*D8*20251201~
SE*30*0001~
GE*1*7~
IEA*1*000000042~
";
    let got = String::from_utf8(out).unwrap();
    for (i, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        assert_eq!(g, e, "segment {}", i + 1);
    }
    assert_eq!(got.lines().count(), expected.lines().count());
    assert_eq!(got, expected);
}

/// SE01 counts ST..SE, SE02 repeats ST02, GE01 counts sets, IEA01 counts
/// groups, and the control numbers pair up.
fn check_envelopes(segs: &[Vec<String>]) {
    let mut st_start = None;
    let mut sets_in_group = 0;
    let mut groups = 0;
    let mut st_controls = std::collections::HashSet::new();
    let mut gs_control = String::new();
    for (i, s) in segs.iter().enumerate() {
        match s[0].as_str() {
            "GS" => {
                groups += 1;
                sets_in_group = 0;
                gs_control = s[6].clone();
            }
            "ST" => {
                st_start = Some(i);
                assert!((4..=9).contains(&s[2].len()), "ST02 {}", s[2]);
                assert!(st_controls.insert(s[2].clone()), "ST02 {} repeated", s[2]);
            }
            "SE" => {
                let start = st_start.take().expect("SE after ST");
                assert_eq!(s[1], (i - start + 1).to_string(), "SE01");
                assert_eq!(s[2], segs[start][2], "SE02 = ST02");
                sets_in_group += 1;
            }
            "GE" => {
                assert_eq!(s[1], sets_in_group.to_string(), "GE01");
                assert_eq!(s[2], gs_control, "GE02 = GS06");
            }
            "IEA" => {
                assert_eq!(s[1], groups.to_string(), "IEA01");
                assert_eq!(s[2], segs[0][13], "IEA02 = ISA13");
            }
            _ => {}
        }
    }
}

/// HL ids run 1, 2, 3 … within a set; a subscriber's parent is a billing
/// provider, a patient's parent a subscriber; HL04 says whether children follow.
fn check_hierarchy(segs: &[Vec<String>]) {
    let mut levels: Vec<(String, String, String, String)> = Vec::new();
    let check = |levels: &mut Vec<(String, String, String, String)>| {
        for (i, (id, parent, code, child)) in levels.iter().enumerate() {
            assert_eq!(id, &(i + 1).to_string(), "HL01 sequential");
            let has_children = levels.iter().any(|l| &l.1 == id);
            assert_eq!(child == "1", has_children, "HL04 of HL {id}");
            match code.as_str() {
                "20" => assert_eq!(parent, "", "billing provider has no parent"),
                "22" | "23" => {
                    let want = if code == "22" { "20" } else { "22" };
                    let p = levels
                        .iter()
                        .find(|l| &l.0 == parent)
                        .expect("parent exists");
                    assert_eq!(p.2, want, "parent of a {code} level");
                    let pi: usize = parent.parse().unwrap();
                    assert!(pi < i + 1, "parent before child");
                }
                other => panic!("HL03 {other}"),
            }
        }
        levels.clear();
    };
    for s in segs {
        match s[0].as_str() {
            "HL" => levels.push((s[1].clone(), s[2].clone(), s[3].clone(), s[4].clone())),
            "SE" => check(&mut levels),
            _ => {}
        }
    }
}

#[test]
fn counts_and_control_numbers() {
    let mut claims = vec![professional(), institutional(), professional()];
    claims[2].id = "PCN-1002".into();
    let out = write_837(&claims, &envelope()).unwrap();
    let segs = segments(&out);
    check_envelopes(&segs);
    check_hierarchy(&segs);
}

#[test]
fn mixed_batch_has_two_groups() {
    let claims = vec![institutional(), professional()];
    let out = write_837(&claims, &envelope()).unwrap();
    let segs = segments(&out);
    let gs: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "GS").collect();
    assert_eq!(gs.len(), 2);
    assert_eq!(gs[0][8], PROFESSIONAL_VERSION);
    assert_eq!(gs[1][8], INSTITUTIONAL_VERSION);
    assert_eq!((gs[0][6].as_str(), gs[1][6].as_str()), ("7", "8"));
    let st: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "ST").collect();
    assert_eq!(st[0][3], PROFESSIONAL_VERSION);
    assert_eq!(st[1][3], INSTITUTIONAL_VERSION);
    assert_eq!((st[0][2].as_str(), st[1][2].as_str()), ("0001", "0002"));
    // several sets: BHT03 carries the set's control number
    let bht: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "BHT").collect();
    assert_eq!(bht[0][3], "B20260102-0001");
    assert_eq!(bht[1][3], "B20260102-0002");
    assert_eq!(segs.iter().filter(|s| s[0] == "IEA").count(), 1);
    check_envelopes(&segs);
}

#[test]
fn clm05_and_institutional_claim_segments() {
    let out = write_837(&[institutional()], &envelope()).unwrap();
    let segs = segments(&out);
    let clm = segs.iter().find(|s| s[0] == "CLM").unwrap();
    assert_eq!(clm[1], "UB-2001");
    assert_eq!(clm[2], "3012.05");
    assert_eq!(clm[5], "11:A:7");
    assert_eq!(clm[6], "", "CLM06 is not used in the 837I");
    assert_eq!(&clm[7..], ["A", "Y", "Y"]);
    let pos = |id: &str, q: &str| segs.iter().position(|s| s[0] == id && s[1] == q).unwrap();
    let text: Vec<String> = segs.iter().map(|s| s.join("*")).collect();
    assert!(text.contains(&"DTP*096*TM*1500".to_owned()));
    assert!(text.contains(&"DTP*434*RD8*20251201-20251203".to_owned()));
    assert!(text.contains(&"DTP*435*DT*202512010700".to_owned()));
    assert!(text.contains(&"CL1*1*7*01".to_owned()));
    assert!(text.contains(&"REF*F8*PAYER-CCN-55".to_owned()));
    assert!(pos("DTP", "096") < pos("DTP", "434") && pos("DTP", "434") < pos("DTP", "435"));
    assert!(pos("DTP", "435") < pos("CL1", "1"));
    // HI: principal with POA, DRG, then the 13 others 12 + 1
    let hi: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "HI").collect();
    assert_eq!(hi.len(), 4);
    assert_eq!(hi[0][1..], ["ABK:R10:::::::Y"]);
    assert_eq!(hi[1][1..], ["DR:470"]);
    assert_eq!(hi[2].len(), 13);
    assert_eq!(hi[2][1], "ABF:R11:::::::N");
    assert_eq!(hi[2][2], "ABF:R12", "POA 1 (exempt) leaves HI-9 empty");
    assert_eq!(hi[2][3], "ABF:R13:::::::W");
    assert_eq!(hi[3][1..], ["ABF:R23:::::::N"]);
    assert!(
        hi[2..]
            .iter()
            .flat_map(|h| &h[1..])
            .all(|c| c.starts_with("ABF:"))
    );
    // attending, lines
    assert!(text.contains(&"NM1*71*1*HOUSE*GREG****XX*1111111112".to_owned()));
    assert!(text.contains(&"PRV*AT*PXC*207R00000X".to_owned()));
    assert!(text.contains(&"SV2*0120**3000*UN*3".to_owned()));
    assert!(text.contains(&"SV2*0636*HC:J1885:JW*12.05*UN*2.5".to_owned()));
    assert!(text.contains(&"DTP*472*RD8*20251201-20251203".to_owned()));
    assert!(text.contains(&"LIN**N4*00409378001".to_owned()));
    assert!(text.contains(&"CTP****2.5*UN".to_owned()));
    // the institutional billing provider is an organisation, with EIN only
    assert!(text.contains(&"NM1*85*2*RIVERSIDE HOSPITAL*****XX*1234567893".to_owned()));
    check_envelopes(&segs);
}

#[test]
fn professional_hi_and_lines() {
    let mut c = professional();
    c.diagnoses = (0..12)
        .map(|i| Diagnosis {
            code: format!("M{:03}", 100 + i),
            poa: Some("Y".into()),
        })
        .collect();
    c.lines[0].modifiers = vec!["25".into(), "59".into(), "XU".into(), "GT".into()];
    c.lines[0].diagnosis_pointers = vec![1, 2, 3, 12];
    c.lines[0].place_of_service = Some("02".into());
    c.lines[1].place_of_service = Some("11".into());
    c.lines[1].date_to = Some("2025-12-05".into());
    c.lines[1].units = 0.25;
    c.lines[1].ndc = Some("12345678901".into());
    let out = write_837(&[c], &envelope()).unwrap();
    let segs = segments(&out);
    let hi: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "HI").collect();
    assert_eq!(hi.len(), 1, "837P: one HI");
    assert_eq!(hi[0].len(), 13);
    assert_eq!(hi[0][1], "ABK:M100", "837P carries no POA");
    assert!(hi[0][2..].iter().all(|c| c.starts_with("ABF:")));
    let text: Vec<String> = segs.iter().map(|s| s.join("*")).collect();
    assert!(text.contains(&"SV1*HC:99214:25:59:XU:GT*150*UN*1*02**1:2:3:12".to_owned()));
    assert!(
        text.contains(&"SV1*HC:36415*35.5*UN*0.25***1".to_owned()),
        "same POS as the claim is left out"
    );
    assert!(text.contains(&"DTP*472*RD8*20251201-20251205".to_owned()));
    assert!(text.contains(&"LIN**N4*12345678901".to_owned()));
    assert!(text.contains(&"CTP****0.25*UN".to_owned()));
}

#[test]
fn dependent_patient_and_cob() {
    let mut c = professional();
    c.subscriber.relationship = "19".into();
    c.subscriber.person.address = None;
    c.patient = Some(Person {
        last_name: "Doe".into(),
        first_name: "Timmy".into(),
        dob: "2015-06-30".into(),
        sex: "M".into(),
        address: Some(addr(&["12 Elm St"], "Springfield", "IL", "62704")),
    });
    c.responsibility = Responsibility::Secondary;
    c.referring_provider = Some(Provider {
        npi: "1928374655".into(),
        last_or_org_name: "Kildare".into(),
        first_name: Some("James".into()),
        taxonomy: None,
        tax_id: None,
        address: None,
    });
    c.other_payers = vec![OtherPayer {
        responsibility: Responsibility::Primary,
        payer: Payer {
            id: "MEDI1".into(),
            name: "Big Medicare Contractor".into(),
            filing_indicator: "MB".into(),
        },
        subscriber: Subscriber {
            member_id: "1EG4TE5MK73".into(),
            group_number: None,
            person: c.subscriber.person.clone(),
            relationship: "19".into(),
        },
        paid_cents: Some(10_010),
    }];
    let out = write_837(&[c], &envelope()).unwrap();
    let segs = segments(&out);
    check_hierarchy(&segs);
    let text: Vec<String> = segs.iter().map(|s| s.join("*")).collect();
    let at = |s: &str| {
        text.iter()
            .position(|t| t == s)
            .unwrap_or_else(|| panic!("{s} missing"))
    };
    assert!(text.contains(&"HL*2*1*22*1".to_owned()));
    assert!(
        text.contains(&"SBR*S**GRP-77******CI".to_owned()),
        "SBR02 empty when a 2000C follows"
    );
    assert!(text.contains(&"HL*3*2*23*0".to_owned()));
    assert!(text.contains(&"PAT*19".to_owned()));
    assert!(text.contains(&"NM1*QC*1*DOE*TIMMY".to_owned()));
    assert!(text.contains(&"DMG*D8*20150630*M".to_owned()));
    assert_eq!(
        text.iter().filter(|t| t.starts_with("DMG")).count(),
        1,
        "no subscriber DMG for a dependent"
    );
    // 2310A referring before 2310B rendering; then 2320/2330A/2330B; then lines
    let clm = at("CLM*PCN-1001*185.5***11:B:1*Y*A*Y*Y");
    let referring = at("NM1*DN*1*KILDARE*JAMES****XX*1928374655");
    let rendering = at("NM1*82*1*WELBY*MARCUS****XX*9876543213");
    let sbr = at("SBR*P*19*******MB");
    let amt = at("AMT*D*100.1");
    let oi = at("OI***Y***Y");
    let other_sub = at("NM1*IL*1*O'DOE-SMITH*JANE****MI*1EG4TE5MK73");
    let other_payer = at("NM1*PR*2*BIG MEDICARE CONTRACTOR*****PI*MEDI1");
    let lx = at("LX*1");
    let order = [
        clm,
        referring,
        rendering,
        sbr,
        amt,
        oi,
        other_sub,
        other_payer,
        lx,
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
}

#[test]
fn claims_share_levels() {
    // same billing provider and subscriber: one 2000A, one 2000B, two claims
    let a = professional();
    let mut b = professional();
    b.id = "PCN-1002".into();
    // another subscriber under the same billing provider
    let mut c = professional();
    c.id = "PCN-1003".into();
    c.subscriber.member_id = "OTHER-1".into();
    // another billing provider
    let mut d = professional();
    d.id = "PCN-1004".into();
    d.billing_provider.npi = "1000000004".into();
    let out = write_837(&[a, b, c, d], &envelope()).unwrap();
    let segs = segments(&out);
    let hl: Vec<String> = segs
        .iter()
        .filter(|s| s[0] == "HL")
        .map(|s| s.join("*"))
        .collect();
    assert_eq!(
        hl,
        [
            "HL*1**20*1",
            "HL*2*1*22*0",
            "HL*3*1*22*0",
            "HL*4**20*1",
            "HL*5*4*22*0"
        ]
    );
    assert_eq!(segs.iter().filter(|s| s[0] == "CLM").count(), 4);
    check_hierarchy(&segs);
    check_envelopes(&segs);
}

#[test]
fn hundred_claims_per_level_at_most() {
    let claims: Vec<Claim> = (0..150)
        .map(|i| {
            let mut c = professional();
            c.id = format!("PCN-{i}");
            c
        })
        .collect();
    let out = write_837(&claims, &envelope()).unwrap();
    let segs = segments(&out);
    let hl: Vec<String> = segs
        .iter()
        .filter(|s| s[0] == "HL")
        .map(|s| s.join("*"))
        .collect();
    assert_eq!(hl, ["HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*0"]);
    check_hierarchy(&segs);
}

#[test]
fn invalid_claims_are_located() {
    let mut bad = professional();
    bad.id = "BAD-7".into();
    bad.lines[1].diagnosis_pointers = vec![3];
    bad.billing_provider.tax_id = None;
    bad.lines[0].modifiers = vec!["2".into()];
    let claims = vec![professional(), bad];
    let err = write_837(&claims, &envelope()).unwrap_err();
    let X837Error::InvalidClaim {
        claim,
        index,
        errors,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(claim, "BAD-7");
    assert_eq!(*index, 1);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.contains(&"lines[1].diagnosis_pointers[0]"),
        "{paths:?}"
    );
    assert!(paths.contains(&"billing_provider.tax_id"), "{paths:?}");
    assert!(paths.contains(&"lines[0].modifiers[0]"), "{paths:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("BAD-7") && msg.contains("lines[1].diagnosis_pointers[0]"),
        "{msg}"
    );

    // identifiers with delimiters are refused, not rewritten
    let mut c = professional();
    c.id = "PCN*1".into();
    c.subscriber.member_id = "W1:2".into();
    let paths: Vec<String> = check_claim(&c).into_iter().map(|e| e.path).collect();
    assert_eq!(paths, ["id", "subscriber.member_id"]);

    // the billing provider needs ZIP+4; a dependent needs an address
    let mut c = professional();
    c.billing_provider.address.as_mut().unwrap().zip = "62701".into();
    c.subscriber.relationship = "19".into();
    c.patient = Some(Person {
        last_name: "***".into(),
        first_name: "Tim".into(),
        dob: "2015-06-30".into(),
        sex: "X".into(),
        address: None,
    });
    let paths: Vec<String> = check_claim(&c).into_iter().map(|e| e.path).collect();
    assert_eq!(
        paths,
        [
            "billing_provider.address.zip",
            "patient.last_name",
            "patient.sex",
            "patient.address"
        ]
    );
    assert!(check_claim(&professional()).is_empty());
    assert!(check_claim(&institutional()).is_empty());
}

#[test]
fn envelope_errors() {
    assert_eq!(write_837(&[], &envelope()), Err(X837Error::NoClaims));
    let mut env = envelope();
    env.submitter.phone = None;
    assert!(matches!(
        write_837(&[professional()], &env),
        Err(X837Error::Envelope {
            field: "submitter.phone",
            ..
        })
    ));
    env.submitter.email = Some("edi@example.com".into());
    let out = String::from_utf8(write_837(&[professional()], &env).unwrap()).unwrap();
    assert!(out.contains("PER*IC*EDI DESK*EM*edi@example.com~"));
    let mut env = envelope();
    env.sender_id = "THIS-ID-IS-FAR-TOO-LONG".into();
    assert!(matches!(
        write_837(&[professional()], &env),
        Err(X837Error::Envelope {
            field: "sender_id",
            ..
        })
    ));
    let mut env = envelope();
    env.usage = 'X';
    assert!(matches!(
        write_837(&[professional()], &env),
        Err(X837Error::Envelope { field: "usage", .. })
    ));
}

#[test]
fn free_text_is_sanitised_in_output() {
    let mut c = professional();
    c.billing_provider.last_or_org_name = "Smith*Jones~Clinic: Ünïted^".into();
    c.subscriber.person.address = Some(addr(
        &["12 Elm St. #4", "c/o Ana Müller"],
        "St. Louis",
        "mo",
        "63101",
    ));
    let out = String::from_utf8(write_837(&[c], &envelope()).unwrap()).unwrap();
    assert!(
        out.contains("NM1*85*2*SMITH JONES CLINIC UNITED*****XX*1234567893~"),
        "{out}"
    );
    assert!(out.contains("N3*12 ELM ST. 4*C/O ANA MULLER~"), "{out}");
    assert!(out.contains("N4*ST. LOUIS*MO*63101~"), "{out}");
}

#[test]
fn void_and_replacement_carry_the_original_reference() {
    let mut c = professional();
    c.frequency = Frequency::Void;
    c.original_reference = Some("CCN-123".into());
    let out = String::from_utf8(write_837(&[c], &envelope()).unwrap()).unwrap();
    assert!(out.contains("CLM*PCN-1001*185.5***11:B:8*Y*A*Y*Y~"));
    assert!(out.contains("REF*G1*AUTH-9~\nREF*F8*CCN-123~"));
    // an original claim does not send F8 even if a reference is present
    let mut c = professional();
    c.original_reference = Some("CCN-123".into());
    let out = String::from_utf8(write_837(&[c], &envelope()).unwrap()).unwrap();
    assert!(!out.contains("REF*F8"));
}

#[test]
fn large_batches_split_into_transaction_sets() {
    let claims: Vec<Claim> = (0..5001)
        .map(|i| {
            let mut c = professional();
            c.id = format!("PCN-{i}");
            c
        })
        .collect();
    let out = write_837(&claims, &envelope()).unwrap();
    let segs = segments(&out);
    let st: Vec<&Vec<String>> = segs.iter().filter(|s| s[0] == "ST").collect();
    assert_eq!(st.len(), 2);
    assert_eq!(segs.iter().filter(|s| s[0] == "GS").count(), 1);
    let ge = segs.iter().find(|s| s[0] == "GE").unwrap();
    assert_eq!(ge[1], "2");
    let per_set: Vec<usize> = segs
        .split(|s| s[0] == "SE")
        .map(|part| part.iter().filter(|s| s[0] == "CLM").count())
        .collect();
    assert_eq!(per_set[..2], [5000, 1]);
    check_envelopes(&segs);
    check_hierarchy(&segs);
}
