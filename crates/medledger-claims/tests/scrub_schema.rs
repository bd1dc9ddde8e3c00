//! `schema/claim.schema.json` against the examples and against serde.
//!
//! The `jsonschema` crate is not available offline here, so the test
//! carries a small validator for the keywords the schema uses (`$ref`,
//! `type`, `enum`, `anyOf`, `properties`, `required`,
//! `additionalProperties`, `items`, `minimum`, `maximum`; annotations are
//! skipped and any other keyword fails the test), and checks that the
//! schema says what serde does: the same field names, the same required
//! fields, unknown fields refused.

#[path = "fixtures/scrub/common.rs"]
mod common;

use medledger_claims::model::Claim;
use serde_json::{Map, Value, json};

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/claim.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("schema is JSON")
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/$defs/")
                .unwrap_or_else(|| panic!("unsupported $ref {r}"));
            resolve(root, &root["$defs"][name])
        }
        None => s,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown type {other}"),
    }
}

/// Errors of `v` against schema `s`, as `path: message`.
fn check(root: &Value, s: &Value, v: &Value, path: &str, out: &mut Vec<String>) {
    let s = resolve(root, s);
    let obj = s.as_object().expect("schema object");
    for k in obj.keys() {
        assert!(
            matches!(
                k.as_str(),
                "$schema"
                    | "$id"
                    | "$defs"
                    | "title"
                    | "description"
                    | "format"
                    | "$ref"
                    | "type"
                    | "enum"
                    | "anyOf"
                    | "properties"
                    | "required"
                    | "additionalProperties"
                    | "items"
                    | "minimum"
                    | "maximum"
            ),
            "keyword {k} is not supported by this test's validator"
        );
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().expect("type"), v)),
            _ => panic!("bad type"),
        };
        if !ok {
            out.push(format!("{path}: expected {t}, found {v}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        out.push(format!("{path}: {v} not one of {e:?}"));
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|a| {
            let mut o = Vec::new();
            check(root, a, v, path, &mut o);
            o.is_empty()
        })
    {
        out.push(format!("{path}: matches none of anyOf"));
    }
    if let (Some(m), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < m
    {
        out.push(format!("{path}: {n} < {m}"));
    }
    if let (Some(m), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64())
        && n > m
    {
        out.push(format!("{path}: {n} > {m}"));
    }
    if let Value::Object(o) = v {
        let props = s.get("properties").and_then(Value::as_object);
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !o.contains_key(r.as_str().expect("name")) {
                out.push(format!("{path}: missing required {r}"));
            }
        }
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(root, ps, x, &format!("{path}.{k}"), out),
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    out.push(format!("{path}: unknown property {k}"))
                }
                None => {}
            }
        }
    }
    if let (Value::Array(a), Some(items)) = (v, s.get("items")) {
        for (i, x) in a.iter().enumerate() {
            check(root, items, x, &format!("{path}[{i}]"), out);
        }
    }
}

fn errors(v: &Value) -> Vec<String> {
    let root = schema();
    let mut out = Vec::new();
    check(&root, &root, v, "$", &mut out);
    out
}

fn serde_ok(v: &Value) -> bool {
    Claim::from_json(&v.to_string()).is_ok()
}

/// A claim with every field the model has, set.
fn full() -> Value {
    let addr = json!({"lines": ["1 A St", "Suite 2"], "city": "Springfield", "state": "IL", "zip": "62701"});
    let provider = json!({"npi": "1900000013", "last_or_org_name": "Org", "first_name": "A", "taxonomy": "207Q00000X", "tax_id": "461234567", "address": addr});
    let person = json!({"last_name": "Doe", "first_name": "Sam", "dob": "1960-01-01", "sex": "F", "address": addr});
    let subscriber =
        json!({"member_id": "M1", "group_number": "G1", "person": person, "relationship": "01"});
    let payer = json!({"id": "ACME01", "name": "ACME", "filing_indicator": "CI"});
    json!({
        "id": "FULL-1", "kind": "institutional", "frequency": "7", "original_reference": "CCN1", "encounter": 42,
        "billing_provider": provider, "rendering_provider": provider, "referring_provider": provider,
        "payer": payer, "responsibility": "secondary", "subscriber": subscriber, "patient": person,
        "other_payers": [{"responsibility": "primary", "payer": payer, "subscriber": subscriber, "paid_cents": 100}],
        "prior_authorization": "PA1", "place_of_service": "11",
        "diagnoses": [{"code": "E119", "poa": "Y"}],
        "lines": [{"procedure": "99213", "modifiers": ["25"], "revenue_code": "0510", "units": 1.5, "charge_cents": 100,
                   "date_from": "2026-05-01", "date_to": "2026-05-02", "place_of_service": "11",
                   "diagnosis_pointers": [1], "ndc": "00641036721"}],
        "institutional": {"type_of_bill": "13", "admission_date": "2026-05-01", "admission_hour": "10", "admission_type": "1",
                          "admission_source": "7", "discharge_hour": "12", "patient_status": "01",
                          "statement_from": "2026-05-01", "statement_to": "2026-05-02", "attending": provider, "drg": "282"}
    })
}

/// Every object in `v` with its JSON pointer.
fn objects(v: &Value, ptr: String, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            out.push(ptr.clone());
            for (k, x) in o {
                objects(x, format!("{ptr}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                objects(x, format!("{ptr}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The schema node describing the value at `ptr` of the full claim.
fn schema_at<'a>(root: &'a Value, ptr: &str) -> &'a Value {
    let mut s = resolve(root, root);
    for part in ptr.split('/').skip(1) {
        if part.parse::<usize>().is_ok() {
            s = resolve(root, &s["items"]);
        } else {
            s = &s["properties"][part];
            if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
                s = any
                    .iter()
                    .find(|a| a.get("$ref").is_some())
                    .expect("an object branch");
            }
            s = resolve(root, s);
        }
    }
    s
}

#[test]
fn every_example_matches_the_schema_and_the_model() {
    let files = common::example_files();
    assert!(files.len() >= 20);
    for f in files {
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(&f).expect("read")).expect("JSON");
        let e = errors(&v);
        assert!(e.is_empty(), "{}: {e:?}", f.display());
        assert!(serde_ok(&v), "{}", f.display());
    }
}

#[test]
fn the_schema_says_what_serde_reads() {
    let root = schema();
    let full = full();
    assert!(errors(&full).is_empty(), "{:?}", errors(&full));
    let claim = Claim::from_json(&full.to_string()).expect("the full claim reads");
    // Serialising the model yields exactly the keys of the full claim: it
    // names every field.
    let back = serde_json::to_value(&claim).expect("serialises");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    objects(&full, String::new(), &mut a);
    objects(&back, String::new(), &mut b);
    assert_eq!(a, b);
    let mut ptrs = Vec::new();
    objects(&full, String::new(), &mut ptrs);
    for ptr in &ptrs {
        let s = schema_at(&root, ptr);
        let node = full
            .pointer(ptr)
            .expect("node")
            .as_object()
            .expect("object");
        let props: Vec<&String> = s["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .collect();
        let keys: Vec<&String> = node.keys().collect();
        let (mut p, mut k) = (props.clone(), keys.clone());
        p.sort();
        k.sort();
        assert_eq!(p, k, "{ptr}: schema properties and model fields differ");
        assert_eq!(s["additionalProperties"], Value::Bool(false), "{ptr}");
        let required: Vec<&str> = s["required"]
            .as_array()
            .expect("required")
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        for key in keys {
            let mut v = full.clone();
            v.pointer_mut(ptr)
                .expect("node")
                .as_object_mut()
                .expect("object")
                .remove(key.as_str());
            let req = required.contains(&key.as_str());
            assert_eq!(
                serde_ok(&v),
                !req,
                "{ptr}/{key}: serde {} it missing",
                if req { "accepts" } else { "refuses" }
            );
            assert_eq!(
                errors(&v).is_empty(),
                !req,
                "{ptr}/{key}: schema required list"
            );
            if !req {
                let mut v = full.clone();
                v.pointer_mut(ptr)
                    .unwrap()
                    .as_object_mut()
                    .unwrap()
                    .insert(key.clone(), Value::Null);
                let lists = matches!(
                    key.as_str(),
                    "other_payers" | "modifiers" | "diagnosis_pointers"
                );
                assert_eq!(serde_ok(&v), !lists, "{ptr}/{key} = null (serde)");
                assert_eq!(errors(&v).is_empty(), !lists, "{ptr}/{key} = null (schema)");
            }
        }
        let mut v = full.clone();
        v.pointer_mut(ptr)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .insert("unknown_field".into(), json!(1));
        assert!(!serde_ok(&v), "{ptr}: serde refuses unknown fields");
        assert!(
            !errors(&v).is_empty(),
            "{ptr}: the schema refuses unknown fields"
        );
    }
}

#[test]
fn enums_and_types_agree() {
    let mut bad: Vec<(&str, Value)> = Vec::new();
    let full = full();
    for (ptr, value) in [
        ("/kind", json!("dental")),
        ("/frequency", json!("2")),
        ("/frequency", json!(1)),
        ("/responsibility", json!("P")),
        ("/lines/0/units", json!("1")),
        ("/lines/0/charge_cents", json!(1.5)),
        ("/lines/0/diagnosis_pointers/0", json!(256)),
        ("/lines/0/diagnosis_pointers/0", json!(-1)),
        ("/encounter", json!("42")),
        ("/diagnoses", json!({"code": "E119"})),
    ] {
        let mut v = full.clone();
        *v.pointer_mut(ptr).expect(ptr) = value.clone();
        bad.push((ptr, v));
    }
    for (ptr, v) in bad {
        assert!(
            !serde_ok(&v),
            "serde accepts {ptr} = {}",
            v.pointer(ptr).unwrap()
        );
        assert!(
            !errors(&v).is_empty(),
            "the schema accepts {ptr} = {}",
            v.pointer(ptr).unwrap()
        );
    }
    let mut m = Map::new();
    for k in ["professional", "institutional"] {
        let mut v = full.clone();
        v["kind"] = json!(k);
        m.insert(k.into(), json!(serde_ok(&v) && errors(&v).is_empty()));
    }
    assert_eq!(
        Value::Object(m),
        json!({"professional": true, "institutional": true})
    );
}
