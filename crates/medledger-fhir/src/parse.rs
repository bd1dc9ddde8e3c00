//! Reading FHIR JSON: bundles (each entry's resource parsed by its
//! `resourceType`, with its location) and single resources.

use crate::error::{FhirError, from_serde};
use crate::resources::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Bundle.entry.request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleRequest {
    /// GET | HEAD | POST | PUT | DELETE | PATCH (required).
    pub method: String,
    /// URL (required).
    pub url: String,
}

/// Bundle.entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// The entry's URI (`urn:uuid:…` or an absolute URL).
    pub full_url: Option<String>,
    /// The resource.
    pub resource: Option<Resource>,
    /// Transaction/batch request.
    pub request: Option<BundleRequest>,
}

/// Bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// Logical id.
    pub id: Option<String>,
    /// document | message | transaction | transaction-response | batch |
    /// batch-response | history | searchset | collection (required).
    #[serde(rename = "type")]
    pub type_: String,
    /// When assembled.
    pub timestamp: Option<String>,
    /// Entries.
    pub entry: Vec<BundleEntry>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// The Bundle.type codes of R4.
pub const BUNDLE_TYPES: &[&str] = &[
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry<'a> {
    full_url: Option<String>,
    #[serde(borrow)]
    resource: Option<&'a RawValue>,
    request: Option<BundleRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBundle<'a> {
    resource_type: Option<String>,
    id: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    timestamp: Option<String>,
    #[serde(default, borrow)]
    entry: Vec<RawEntry<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Peek {
    resource_type: Option<String>,
}

fn de_located<'de, T: Deserialize<'de>>(text: &'de [u8], prefix: &str) -> Result<T, FhirError> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let v = serde_path_to_error::deserialize(&mut de).map_err(|e| from_serde(prefix, e))?;
    de.end().map_err(|e| crate::error::not_json(&e))?;
    Ok(v)
}

fn typed<T: DeserializeOwned>(raw: &str, prefix: &str) -> Result<T, FhirError> {
    de_located(raw.as_bytes(), prefix)
}

/// Parses one resource of a known `resourceType` from its JSON text.
/// `location` names it in errors (`Bundle.entry[3].resource`); the type is
/// appended (`Bundle.entry[3].resource(Patient)`).
pub(crate) fn resource_from_raw(raw: &str, location: &str) -> Result<Resource, FhirError> {
    let peek: Peek = typed(raw, location)?;
    let Some(rt) = peek.resource_type else {
        return Err(FhirError::element(
            format!("{location}.resourceType"),
            "required element missing",
        ));
    };
    if !is_r4_resource_type(&rt) {
        return Err(FhirError::UnknownResourceType {
            location: format!("{location}.resourceType"),
        });
    }
    let at = format!("{location}({rt})");
    Ok(match rt.as_str() {
        "Patient" => Resource::Patient(typed(raw, &at)?),
        "Encounter" => Resource::Encounter(typed(raw, &at)?),
        "Condition" => Resource::Condition(typed(raw, &at)?),
        "Procedure" => Resource::Procedure(typed(raw, &at)?),
        "Observation" => Resource::Observation(typed(raw, &at)?),
        "DocumentReference" => Resource::DocumentReference(typed(raw, &at)?),
        "Coverage" => Resource::Coverage(typed(raw, &at)?),
        "Organization" => Resource::Organization(typed(raw, &at)?),
        "Practitioner" => Resource::Practitioner(typed(raw, &at)?),
        "Claim" => Resource::Claim(typed(raw, &at)?),
        "ClaimResponse" => Resource::ClaimResponse(typed(raw, &at)?),
        "ExplanationOfBenefit" => Resource::ExplanationOfBenefit(typed(raw, &at)?),
        "Bundle" => {
            return Err(FhirError::element(
                at,
                "a Bundle inside a Bundle is not supported",
            ));
        }
        _ => Resource::Other(typed(raw, &at)?),
    })
}

/// Reads the JSON shape of a bundle without validating it (see
/// [`parse_bundle`]).
pub fn parse_bundle_unchecked(bytes: &[u8]) -> Result<Bundle, FhirError> {
    let raw: RawBundle = de_located(bytes, "Bundle")?;
    match raw.resource_type.as_deref() {
        Some("Bundle") => {}
        None => {
            return Err(FhirError::element(
                "Bundle.resourceType",
                "required element missing",
            ));
        }
        Some(t) if is_r4_resource_type(t) => {
            return Err(FhirError::WrongResource {
                expected: "Bundle".into(),
                found: t.to_owned(),
            });
        }
        Some(_) => {
            return Err(FhirError::UnknownResourceType {
                location: "resourceType".into(),
            });
        }
    }
    let Some(type_) = raw.type_ else {
        return Err(FhirError::element(
            "Bundle.type",
            "required element missing",
        ));
    };
    let mut entry = Vec::with_capacity(raw.entry.len());
    for (i, e) in raw.entry.into_iter().enumerate() {
        let resource = match e.resource {
            Some(r) => Some(resource_from_raw(
                r.get(),
                &format!("Bundle.entry[{i}].resource"),
            )?),
            None => None,
        };
        entry.push(BundleEntry {
            full_url: e.full_url,
            resource,
            request: e.request,
        });
    }
    Ok(Bundle::new(raw.id, type_, raw.timestamp, entry))
}

/// Parses and validates a FHIR R4 Bundle (JSON): every entry's resource by
/// its `resourceType`, then cardinalities, codes and references
/// ([`crate::validate`]). Unknown elements are ignored.
pub fn parse_bundle(bytes: &[u8]) -> Result<Bundle, FhirError> {
    let b = parse_bundle_unchecked(bytes)?;
    let issues = crate::validate::validate_bundle(&b);
    if issues.is_empty() {
        Ok(b)
    } else {
        Err(FhirError::Invalid { issues })
    }
}

/// Parses and validates a single resource (not a Bundle). References are
/// not checked for resolution (there is no bundle to resolve them in),
/// except `#id` references to contained resources.
pub fn parse_resource(bytes: &[u8]) -> Result<Resource, FhirError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FhirError::NotJson {
        reason: "invalid UTF-8".into(),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count(),
        column: 0,
    })?;
    let peek: Peek = typed(text, "")?;
    let loc = peek
        .resource_type
        .as_deref()
        .filter(|t| is_r4_resource_type(t))
        .unwrap_or("Resource");
    let r = resource_from_raw(text, "").map_err(|e| relocate(e, loc))?;
    let issues = crate::validate::validate_resource(&r, r.resource_type(), None);
    if issues.is_empty() {
        Ok(r)
    } else {
        Err(FhirError::Invalid { issues })
    }
}

/// A top-level resource's errors read `Claim.status`, not `(Claim).status`.
fn relocate(e: FhirError, rt: &str) -> FhirError {
    let fix = |l: String| {
        let l = l
            .strip_prefix(&format!("({rt})"))
            .map(str::to_owned)
            .unwrap_or(l);
        if l.starts_with('.') || l.is_empty() {
            format!("{rt}{l}")
        } else {
            l
        }
    };
    match e {
        FhirError::Element { location, message } => FhirError::Element {
            location: fix(location),
            message,
        },
        FhirError::UnknownResourceType { location } => FhirError::UnknownResourceType {
            location: fix(location),
        },
        other => other,
    }
}

impl Bundle {
    /// A bundle from parts (the reference index is built here).
    pub fn new(
        id: Option<String>,
        type_: String,
        timestamp: Option<String>,
        entry: Vec<BundleEntry>,
    ) -> Self {
        let mut index = HashMap::with_capacity(entry.len() * 2);
        for (i, e) in entry.iter().enumerate() {
            if let Some(u) = &e.full_url {
                index.entry(u.clone()).or_insert(i);
            }
            if let Some(r) = &e.resource
                && let Some(id) = r.id()
            {
                index
                    .entry(format!("{}/{id}", r.resource_type()))
                    .or_insert(i);
            }
        }
        Bundle {
            id,
            type_,
            timestamp,
            entry,
            index,
        }
    }

    /// The entry index a literal reference (`urn:uuid:…`, `Type/id`, an
    /// absolute URL ending in `Type/id`, or a fullUrl) points to.
    pub fn resolve_index(&self, reference: &str) -> Option<usize> {
        if let Some(i) = self.index.get(reference) {
            return Some(*i);
        }
        // absolute URL of a RESTful resource: …/Type/id (optionally /_history/n)
        let r = reference.split("/_history/").next().unwrap_or(reference);
        let mut parts = r.rsplitn(3, '/');
        let (id, t) = (parts.next()?, parts.next()?);
        if parts.next().is_some() && is_r4_resource_type(t) {
            return self.index.get(&format!("{t}/{id}")).copied();
        }
        None
    }

    /// The resource a reference points to.
    pub fn resolve(&self, reference: &str) -> Option<&Resource> {
        self.resolve_index(reference)
            .and_then(|i| self.entry[i].resource.as_ref())
    }

    /// The resources, in entry order.
    pub fn resources(&self) -> impl Iterator<Item = (usize, &Resource)> {
        self.entry
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.resource.as_ref().map(|r| (i, r)))
    }

    /// The bundle as FHIR JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("resourceType".into(), "Bundle".into());
        }
        crate::prune(&mut v);
        v
    }
}
