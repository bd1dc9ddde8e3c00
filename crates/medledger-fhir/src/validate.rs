//! Validation beyond the JSON shape: code values of the statuses we rely
//! on, 1..* cardinalities, choice elements (`diagnosis[x]`), Claim line
//! pointers, Bundle rules (request in transactions, unique fullUrls) and
//! reference resolution.
//!
//! References: `urn:uuid:`/`urn:oid:` and relative `Type/id` references must
//! resolve inside the bundle; `#id` must name a contained resource; absolute
//! `http(s)` URLs that are not a fullUrl of the bundle are external and
//! accepted, and so are unresolved `Type/id` references in `searchset`,
//! `history` and response bundles (they point into the server they came
//! from). Only the modelled resource types have their references
//! checked (other R4 types are kept by type and id only).

use crate::datatypes::Reference;
use crate::error::Issue;
use crate::parse::{BUNDLE_TYPES, Bundle};
use crate::resources::*;
use std::collections::HashSet;

const GENDER: &[&str] = &["male", "female", "other", "unknown"];
const ENCOUNTER_STATUS: &[&str] = &[
    "planned",
    "arrived",
    "triaged",
    "in-progress",
    "onleave",
    "finished",
    "cancelled",
    "entered-in-error",
    "unknown",
];
const FINANCIAL_STATUS: &[&str] = &["active", "cancelled", "draft", "entered-in-error"];
const CLAIM_USE: &[&str] = &["claim", "preauthorization", "predetermination"];
const OUTCOME: &[&str] = &["queued", "complete", "error", "partial"];
const PROCEDURE_STATUS: &[&str] = &[
    "preparation",
    "in-progress",
    "not-done",
    "on-hold",
    "stopped",
    "completed",
    "entered-in-error",
    "unknown",
];
const OBSERVATION_STATUS: &[&str] = &[
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
];
const DOCREF_STATUS: &[&str] = &["current", "superseded", "entered-in-error"];
const HTTP_VERBS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"];

struct Ctx<'a> {
    loc: &'a str,
    bundle: Option<&'a Bundle>,
    contained: HashSet<&'a str>,
    issues: Vec<Issue>,
}

impl<'a> Ctx<'a> {
    fn issue(&mut self, path: &str, message: &str) {
        self.issues.push(Issue {
            location: format!("{}.{path}", self.loc),
            message: message.to_owned(),
        });
    }

    fn code(&mut self, path: &str, value: &str, allowed: &[&str]) {
        if !allowed.contains(&value) {
            self.issue(path, "not a code of the required value set");
        }
    }

    fn nonempty<T>(&mut self, path: &str, v: &[T]) {
        if v.is_empty() {
            self.issue(path, "required element missing (at least one)");
        }
    }

    fn reference(&mut self, path: &str, r: &Reference) {
        let Some(target) = r.reference.as_deref() else {
            return;
        };
        if let Some(local) = target.strip_prefix('#') {
            if !local.is_empty() && !self.contained.contains(local) {
                self.issue(path, "reference to a contained resource that is not there");
            }
            return;
        }
        let Some(b) = self.bundle else {
            return;
        };
        if b.resolve_index(target).is_some() {
            return;
        }
        if target.starts_with("urn:uuid:") || target.starts_with("urn:oid:") {
            self.issue(path, "reference does not resolve inside the bundle");
        } else if !target.contains("://") {
            let mut parts = target.split('/');
            match (parts.next(), parts.next()) {
                (Some(t), Some(id)) if is_r4_resource_type(t) && !id.is_empty() => {
                    // search results and histories point into the server they came from
                    if !matches!(
                        b.type_.as_str(),
                        "searchset" | "history" | "transaction-response" | "batch-response"
                    ) {
                        self.issue(path, "reference does not resolve inside the bundle");
                    }
                }
                _ => self.issue(path, "not a valid reference"),
            }
        }
    }

    fn opt_ref(&mut self, path: &str, r: &Option<Reference>) {
        if let Some(r) = r {
            self.reference(path, r);
        }
    }

    fn refs(&mut self, path: &str, rs: &[Reference]) {
        for (i, r) in rs.iter().enumerate() {
            self.reference(&format!("{path}[{i}]"), r);
        }
    }
}

/// Validates a whole bundle; no issues means valid.
pub fn validate_bundle(b: &Bundle) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut push = |location: String, message: &str| {
        issues.push(Issue {
            location,
            message: message.to_owned(),
        })
    };
    if !BUNDLE_TYPES.contains(&b.type_.as_str()) {
        push("Bundle.type".into(), "not a code of the required value set");
    }
    let needs_request = matches!(b.type_.as_str(), "transaction" | "batch" | "history");
    let mut seen = HashSet::new();
    for (i, e) in b.entry.iter().enumerate() {
        match &e.request {
            None if needs_request => push(
                format!("Bundle.entry[{i}].request"),
                "required element missing (transaction, batch and history entries)",
            ),
            Some(r) if !HTTP_VERBS.contains(&r.method.as_str()) => push(
                format!("Bundle.entry[{i}].request.method"),
                "not a code of the required value set",
            ),
            _ => {}
        }
        if let Some(u) = &e.full_url
            && b.type_ != "history"
            && !seen.insert(u.as_str())
        {
            push(format!("Bundle.entry[{i}].fullUrl"), "duplicate fullUrl");
        }
    }
    for (i, r) in b.resources() {
        let loc = format!("Bundle.entry[{i}].resource({})", r.resource_type());
        issues.extend(validate_resource(r, &loc, Some(b)));
    }
    issues
}

/// Validates one resource at `loc`; references are resolved in `bundle`
/// when given.
pub fn validate_resource<'a>(
    r: &'a Resource,
    loc: &'a str,
    bundle: Option<&'a Bundle>,
) -> Vec<Issue> {
    let mut c = Ctx {
        loc,
        bundle,
        contained: HashSet::new(),
        issues: Vec::new(),
    };
    match r {
        Resource::Patient(p) => {
            if let Some(g) = &p.gender {
                c.code("gender", g, GENDER);
            }
        }
        Resource::Encounter(e) => {
            c.code("status", &e.status, ENCOUNTER_STATUS);
            c.opt_ref("subject", &e.subject);
            for (i, p) in e.participant.iter().enumerate() {
                c.opt_ref(&format!("participant[{i}].individual"), &p.individual);
            }
            c.opt_ref("serviceProvider", &e.service_provider);
        }
        Resource::Condition(x) => {
            c.reference("subject", &x.subject);
            c.opt_ref("encounter", &x.encounter);
        }
        Resource::Procedure(x) => {
            c.code("status", &x.status, PROCEDURE_STATUS);
            c.reference("subject", &x.subject);
            c.opt_ref("encounter", &x.encounter);
        }
        Resource::Observation(x) => {
            c.code("status", &x.status, OBSERVATION_STATUS);
            c.opt_ref("subject", &x.subject);
            c.opt_ref("encounter", &x.encounter);
        }
        Resource::DocumentReference(d) => {
            c.code("status", &d.status, DOCREF_STATUS);
            c.nonempty("content", &d.content);
            c.opt_ref("subject", &d.subject);
            c.refs("author", &d.author);
            if let Some(ctx) = &d.context {
                c.refs("context.encounter", &ctx.encounter);
            }
        }
        Resource::Coverage(x) => {
            c.code("status", &x.status, FINANCIAL_STATUS);
            c.nonempty("payor", &x.payor);
            c.opt_ref("subscriber", &x.subscriber);
            c.reference("beneficiary", &x.beneficiary);
            c.refs("payor", &x.payor);
        }
        Resource::Organization(_) | Resource::Practitioner(_) | Resource::Other(_) => {}
        Resource::Claim(x) => {
            contained(&mut c, &x.contained);
            c.code("status", &x.status, FINANCIAL_STATUS);
            c.code("use", &x.use_, CLAIM_USE);
            c.nonempty("insurance", &x.insurance);
            c.reference("patient", &x.patient);
            c.opt_ref("insurer", &x.insurer);
            c.reference("provider", &x.provider);
            c.opt_ref("prescription", &x.prescription);
            c.opt_ref("referral", &x.referral);
            for (i, r) in x.related.iter().enumerate() {
                c.opt_ref(&format!("related[{i}].claim"), &r.claim);
            }
            for (i, t) in x.care_team.iter().enumerate() {
                c.reference(&format!("careTeam[{i}].provider"), &t.provider);
            }
            diagnoses(&mut c, &x.diagnosis);
            procedures(&mut c, &x.procedure);
            for (i, ins) in x.insurance.iter().enumerate() {
                c.reference(&format!("insurance[{i}].coverage"), &ins.coverage);
                c.opt_ref(
                    &format!("insurance[{i}].claimResponse"),
                    &ins.claim_response,
                );
            }
            let dx: HashSet<u32> = x.diagnosis.iter().map(|d| d.sequence).collect();
            let team: HashSet<u32> = x.care_team.iter().map(|d| d.sequence).collect();
            let info: HashSet<u32> = x.supporting_info.iter().map(|d| d.sequence).collect();
            for (i, it) in x.item.iter().enumerate() {
                for (j, s) in it.diagnosis_sequence.iter().enumerate() {
                    if !dx.contains(s) {
                        c.issue(
                            &format!("item[{i}].diagnosisSequence[{j}]"),
                            "points to no diagnosis",
                        );
                    }
                }
                for (j, s) in it.care_team_sequence.iter().enumerate() {
                    if !team.contains(s) {
                        c.issue(
                            &format!("item[{i}].careTeamSequence[{j}]"),
                            "points to no careTeam member",
                        );
                    }
                }
                for (j, s) in it.information_sequence.iter().enumerate() {
                    if !info.contains(s) {
                        c.issue(
                            &format!("item[{i}].informationSequence[{j}]"),
                            "points to no supportingInfo",
                        );
                    }
                }
                c.refs(&format!("item[{i}].encounter"), &it.encounter);
            }
        }
        Resource::ClaimResponse(x) => {
            contained(&mut c, &x.contained);
            c.code("status", &x.status, FINANCIAL_STATUS);
            c.code("use", &x.use_, CLAIM_USE);
            c.code("outcome", &x.outcome, OUTCOME);
            for (i, it) in x.item.iter().enumerate() {
                c.nonempty(&format!("item[{i}].adjudication"), &it.adjudication);
            }
            if let Some(p) = &x.payment {
                if p.type_.is_none() {
                    c.issue("payment.type", "required element missing");
                }
                if p.amount.is_none() {
                    c.issue("payment.amount", "required element missing");
                }
            }
            c.reference("patient", &x.patient);
            c.reference("insurer", &x.insurer);
            c.opt_ref("requestor", &x.requestor);
            c.opt_ref("request", &x.request);
        }
        Resource::ExplanationOfBenefit(x) => {
            contained(&mut c, &x.contained);
            c.code("status", &x.status, FINANCIAL_STATUS);
            c.code("use", &x.use_, CLAIM_USE);
            c.code("outcome", &x.outcome, OUTCOME);
            c.nonempty("insurance", &x.insurance);
            c.reference("patient", &x.patient);
            c.reference("insurer", &x.insurer);
            c.reference("provider", &x.provider);
            c.opt_ref("claim", &x.claim);
            c.opt_ref("claimResponse", &x.claim_response);
            for (i, t) in x.care_team.iter().enumerate() {
                c.reference(&format!("careTeam[{i}].provider"), &t.provider);
            }
            diagnoses(&mut c, &x.diagnosis);
            procedures(&mut c, &x.procedure);
            for (i, ins) in x.insurance.iter().enumerate() {
                c.reference(&format!("insurance[{i}].coverage"), &ins.coverage);
            }
            for (i, it) in x.item.iter().enumerate() {
                c.refs(&format!("item[{i}].encounter"), &it.encounter);
            }
        }
    }
    c.issues
}

fn contained<'a>(c: &mut Ctx<'a>, k: &'a [Contained]) {
    for (i, k) in k.iter().enumerate() {
        if !is_r4_resource_type(&k.resource_type) {
            c.issue(
                &format!("contained[{i}].resourceType"),
                "unknown resourceType",
            );
        }
        if let Some(id) = &k.id {
            c.contained.insert(id);
        }
    }
}

fn diagnoses(c: &mut Ctx<'_>, d: &[ClaimDiagnosis]) {
    for (i, d) in d.iter().enumerate() {
        match (&d.diagnosis_codeable_concept, &d.diagnosis_reference) {
            (None, None) => c.issue(
                &format!("diagnosis[{i}].diagnosis[x]"),
                "required element missing",
            ),
            (Some(_), Some(_)) => c.issue(
                &format!("diagnosis[{i}].diagnosis[x]"),
                "only one of diagnosisCodeableConcept and diagnosisReference",
            ),
            (None, Some(r)) => c.reference(&format!("diagnosis[{i}].diagnosisReference"), r),
            (Some(_), None) => {}
        }
    }
}

fn procedures(c: &mut Ctx<'_>, p: &[ClaimProcedure]) {
    for (i, p) in p.iter().enumerate() {
        match (&p.procedure_codeable_concept, &p.procedure_reference) {
            (None, None) => c.issue(
                &format!("procedure[{i}].procedure[x]"),
                "required element missing",
            ),
            (Some(_), Some(_)) => c.issue(
                &format!("procedure[{i}].procedure[x]"),
                "only one of procedureCodeableConcept and procedureReference",
            ),
            (None, Some(r)) => c.reference(&format!("procedure[{i}].procedureReference"), r),
            (Some(_), None) => {}
        }
    }
}
