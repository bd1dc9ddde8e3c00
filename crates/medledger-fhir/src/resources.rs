//! The R4 resources medledger reads and writes: only the elements it uses,
//! plus every element R4 makes required (1..1), which are non-optional
//! fields here so that a missing one fails at its location.

use crate::datatypes::*;
use serde::{Deserialize, Serialize};

/// Patient (R4 requires nothing).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    /// Logical id.
    pub id: Option<String>,
    /// Identifiers (MRN, …).
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// Names.
    #[serde(default)]
    pub name: Vec<HumanName>,
    /// male | female | other | unknown.
    pub gender: Option<String>,
    /// Date of birth.
    pub birth_date: Option<FhirDate>,
    /// Addresses.
    #[serde(default)]
    pub address: Vec<Address>,
}

/// Encounter.participant.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncounterParticipant {
    /// Role (v3-ParticipationType: PPRF, ATND, …).
    #[serde(default, rename = "type")]
    pub type_: Vec<CodeableConcept>,
    /// Who.
    pub individual: Option<Reference>,
}

/// Encounter (R4 requires `status` and `class`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Encounter {
    /// Logical id.
    pub id: Option<String>,
    /// Identifiers.
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// planned | arrived | triaged | in-progress | onleave | finished | cancelled | entered-in-error | unknown.
    pub status: String,
    /// v3-ActCode class (AMB, EMER, IMP, ACUTE, NONAC, OBSENC, VR, HH, …).
    pub class: Coding,
    /// Encounter types.
    #[serde(default, rename = "type")]
    pub type_: Vec<CodeableConcept>,
    /// The patient.
    pub subject: Option<Reference>,
    /// Participants.
    #[serde(default)]
    pub participant: Vec<EncounterParticipant>,
    /// Start and end.
    pub period: Option<Period>,
    /// The organisation responsible.
    pub service_provider: Option<Reference>,
}

/// Condition (R4 requires `subject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Logical id.
    pub id: Option<String>,
    /// active | recurrence | relapse | inactive | remission | resolved.
    pub clinical_status: Option<CodeableConcept>,
    /// unconfirmed | provisional | differential | confirmed | refuted | entered-in-error.
    pub verification_status: Option<CodeableConcept>,
    /// problem-list-item | encounter-diagnosis.
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    /// The condition.
    pub code: Option<CodeableConcept>,
    /// The patient.
    pub subject: Reference,
    /// The encounter.
    pub encounter: Option<Reference>,
    /// Onset as dateTime.
    pub onset_date_time: Option<FhirDateTime>,
    /// Onset as Period.
    pub onset_period: Option<Period>,
    /// Onset as string.
    pub onset_string: Option<String>,
    /// Abatement as dateTime.
    pub abatement_date_time: Option<FhirDateTime>,
    /// Recorded.
    pub recorded_date: Option<FhirDateTime>,
}

/// Procedure (R4 requires `status` and `subject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Procedure {
    /// Logical id.
    pub id: Option<String>,
    /// preparation | in-progress | not-done | on-hold | stopped | completed | entered-in-error | unknown.
    pub status: String,
    /// The procedure.
    pub code: Option<CodeableConcept>,
    /// The patient.
    pub subject: Reference,
    /// The encounter.
    pub encounter: Option<Reference>,
    /// When (dateTime).
    pub performed_date_time: Option<FhirDateTime>,
    /// When (Period).
    pub performed_period: Option<Period>,
}

/// Observation.component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservationComponent {
    /// What (required).
    pub code: CodeableConcept,
    /// Quantity value.
    pub value_quantity: Option<Quantity>,
    /// Coded value.
    pub value_codeable_concept: Option<CodeableConcept>,
    /// String value.
    pub value_string: Option<String>,
}

/// Observation (R4 requires `status` and `code`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// Logical id.
    pub id: Option<String>,
    /// registered | preliminary | final | amended | corrected | cancelled | entered-in-error | unknown.
    pub status: String,
    /// Categories (vital-signs, laboratory, …).
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    /// What was observed.
    pub code: CodeableConcept,
    /// The patient.
    pub subject: Option<Reference>,
    /// The encounter.
    pub encounter: Option<Reference>,
    /// When (dateTime).
    pub effective_date_time: Option<FhirDateTime>,
    /// When (Period).
    pub effective_period: Option<Period>,
    /// Quantity value.
    pub value_quantity: Option<Quantity>,
    /// Coded value.
    pub value_codeable_concept: Option<CodeableConcept>,
    /// String value.
    pub value_string: Option<String>,
    /// Boolean value.
    pub value_boolean: Option<bool>,
    /// Integer value.
    pub value_integer: Option<i64>,
    /// Components (blood pressure, …).
    #[serde(default)]
    pub component: Vec<ObservationComponent>,
}

/// DocumentReference.content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentContent {
    /// Where to get the data (required).
    pub attachment: Attachment,
    /// Format code.
    pub format: Option<Coding>,
}

/// DocumentReference.context.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentContext {
    /// The encounter(s) of the document (0..* in R4).
    #[serde(default)]
    pub encounter: Vec<Reference>,
    /// Time of service documented.
    pub period: Option<Period>,
}

/// DocumentReference (R4 requires `status` and `content` 1..*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentReference {
    /// Logical id.
    pub id: Option<String>,
    /// current | superseded | entered-in-error.
    pub status: String,
    /// Kind of document (LOINC).
    #[serde(rename = "type")]
    pub type_: Option<CodeableConcept>,
    /// Categories.
    #[serde(default)]
    pub category: Vec<CodeableConcept>,
    /// The patient.
    pub subject: Option<Reference>,
    /// When indexed (instant).
    pub date: Option<FhirDateTime>,
    /// Authors.
    #[serde(default)]
    pub author: Vec<Reference>,
    /// The document (1..*).
    #[serde(default)]
    pub content: Vec<DocumentContent>,
    /// Clinical context.
    pub context: Option<DocumentContext>,
}

/// Coverage.class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageClass {
    /// group | plan | … (required).
    #[serde(rename = "type")]
    pub type_: CodeableConcept,
    /// The value (required).
    pub value: String,
    /// Name.
    pub name: Option<String>,
}

/// Coverage (R4 requires `status`, `beneficiary`, `payor` 1..*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Logical id.
    pub id: Option<String>,
    /// Identifiers.
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// active | cancelled | draft | entered-in-error.
    pub status: String,
    /// Coverage type.
    #[serde(rename = "type")]
    pub type_: Option<CodeableConcept>,
    /// The subscriber.
    pub subscriber: Option<Reference>,
    /// Member id.
    pub subscriber_id: Option<String>,
    /// The patient covered.
    pub beneficiary: Reference,
    /// Beneficiary relationship to the subscriber.
    pub relationship: Option<CodeableConcept>,
    /// Coverage period.
    pub period: Option<Period>,
    /// The payer(s) (1..*).
    #[serde(default)]
    pub payor: Vec<Reference>,
    /// Group, plan, …
    #[serde(default)]
    pub class: Vec<CoverageClass>,
    /// Order of application (1 primary, 2 secondary, …).
    pub order: Option<u32>,
}

/// Organization (R4 requires nothing).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    /// Logical id.
    pub id: Option<String>,
    /// Identifiers (NPI, EIN, payer id).
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// Active.
    pub active: Option<bool>,
    /// Kind (prov, pay, ins, …).
    #[serde(default, rename = "type")]
    pub type_: Vec<CodeableConcept>,
    /// Name.
    pub name: Option<String>,
    /// Addresses.
    #[serde(default)]
    pub address: Vec<Address>,
}

/// Practitioner (R4 requires nothing).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Practitioner {
    /// Logical id.
    pub id: Option<String>,
    /// Identifiers (NPI).
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// Active.
    pub active: Option<bool>,
    /// Names.
    #[serde(default)]
    pub name: Vec<HumanName>,
    /// Addresses.
    #[serde(default)]
    pub address: Vec<Address>,
}

/// Claim.related.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimRelated {
    /// The related claim.
    pub claim: Option<Reference>,
    /// prior | associated.
    pub relationship: Option<CodeableConcept>,
    /// File or case reference.
    pub reference: Option<Identifier>,
}

/// Claim/EOB careTeam.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CareTeam {
    /// Order (required).
    pub sequence: u32,
    /// Practitioner or organisation (required).
    pub provider: Reference,
    /// Responsible.
    pub responsible: Option<bool>,
    /// primary | assist | supervisor | other.
    pub role: Option<CodeableConcept>,
    /// Qualification (taxonomy).
    pub qualification: Option<CodeableConcept>,
}

/// Claim/EOB supportingInfo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportingInfo {
    /// Sequence (required).
    pub sequence: u32,
    /// Category (required).
    pub category: CodeableConcept,
    /// Code.
    pub code: Option<CodeableConcept>,
    /// When (date).
    pub timing_date: Option<FhirDate>,
    /// When (period).
    pub timing_period: Option<Period>,
    /// String value.
    pub value_string: Option<String>,
    /// Quantity value.
    pub value_quantity: Option<Quantity>,
}

/// Claim/EOB diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimDiagnosis {
    /// Order (required).
    pub sequence: u32,
    /// The diagnosis as a code (diagnosis[x], one required).
    pub diagnosis_codeable_concept: Option<CodeableConcept>,
    /// The diagnosis as a Condition.
    pub diagnosis_reference: Option<Reference>,
    /// principal | admitting | …
    #[serde(default, rename = "type")]
    pub type_: Vec<CodeableConcept>,
    /// Present on admission.
    pub on_admission: Option<CodeableConcept>,
}

/// Claim/EOB procedure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimProcedure {
    /// Order (required).
    pub sequence: u32,
    /// Date.
    pub date: Option<FhirDateTime>,
    /// The procedure as a code (procedure[x], one required).
    pub procedure_codeable_concept: Option<CodeableConcept>,
    /// The procedure as a Procedure.
    pub procedure_reference: Option<Reference>,
}

/// Claim.insurance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimInsurance {
    /// Order (required).
    pub sequence: u32,
    /// Whether this coverage is to be adjudicated now (required).
    pub focal: bool,
    /// The coverage (required).
    pub coverage: Reference,
    /// Prior authorisation numbers.
    #[serde(default)]
    pub pre_auth_ref: Vec<String>,
    /// An adjudication by this payer.
    pub claim_response: Option<Reference>,
}

/// Claim.item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimItem {
    /// Line number (required).
    pub sequence: u32,
    /// careTeam sequences.
    #[serde(default)]
    pub care_team_sequence: Vec<u32>,
    /// diagnosis sequences (the pointers).
    #[serde(default)]
    pub diagnosis_sequence: Vec<u32>,
    /// supportingInfo sequences.
    #[serde(default)]
    pub information_sequence: Vec<u32>,
    /// Revenue code (institutional).
    pub revenue: Option<CodeableConcept>,
    /// Benefit category.
    pub category: Option<CodeableConcept>,
    /// CPT/HCPCS/… (required).
    pub product_or_service: CodeableConcept,
    /// Modifiers.
    #[serde(default)]
    pub modifier: Vec<CodeableConcept>,
    /// Date of service.
    pub serviced_date: Option<FhirDate>,
    /// Period of service.
    pub serviced_period: Option<Period>,
    /// Place of service.
    pub location_codeable_concept: Option<CodeableConcept>,
    /// Units.
    pub quantity: Option<Quantity>,
    /// Fee per unit.
    pub unit_price: Option<Money>,
    /// Line total.
    pub net: Option<Money>,
    /// Encounters.
    #[serde(default)]
    pub encounter: Vec<Reference>,
}

/// Claim (R4 requires `status`, `type`, `use`, `patient`, `created`,
/// `provider`, `priority` and `insurance` 1..*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// Logical id.
    pub id: Option<String>,
    /// Contained resources.
    #[serde(default)]
    pub contained: Vec<Contained>,
    /// Business identifiers (our patient control number).
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// active | cancelled | draft | entered-in-error.
    pub status: String,
    /// institutional | oral | pharmacy | professional | vision.
    #[serde(rename = "type")]
    pub type_: CodeableConcept,
    /// claim | preauthorization | predetermination.
    #[serde(rename = "use")]
    pub use_: String,
    /// The patient.
    pub patient: Reference,
    /// Service period.
    pub billable_period: Option<Period>,
    /// Creation date.
    pub created: FhirDateTime,
    /// Target payer.
    pub insurer: Option<Reference>,
    /// Billing provider.
    pub provider: Reference,
    /// stat | normal | deferred.
    pub priority: CodeableConcept,
    /// Prior or corrected claims.
    #[serde(default)]
    pub related: Vec<ClaimRelated>,
    /// Prescription (pharmacy claims).
    pub prescription: Option<Reference>,
    /// Referral.
    pub referral: Option<Reference>,
    /// Care team.
    #[serde(default)]
    pub care_team: Vec<CareTeam>,
    /// Supporting information.
    #[serde(default)]
    pub supporting_info: Vec<SupportingInfo>,
    /// Diagnoses.
    #[serde(default)]
    pub diagnosis: Vec<ClaimDiagnosis>,
    /// Procedures.
    #[serde(default)]
    pub procedure: Vec<ClaimProcedure>,
    /// Insurance (1..*).
    #[serde(default)]
    pub insurance: Vec<ClaimInsurance>,
    /// Lines.
    #[serde(default)]
    pub item: Vec<ClaimItem>,
    /// Total.
    pub total: Option<Money>,
}

/// An adjudication (ClaimResponse/EOB item, header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Adjudication {
    /// Extensions (an X12 group code may be carried here).
    #[serde(default)]
    pub extension: Vec<Extension>,
    /// submitted | eligible | benefit | copay | deductible | … (required).
    pub category: CodeableConcept,
    /// Explanation (CARC/RARC).
    pub reason: Option<CodeableConcept>,
    /// Amount.
    pub amount: Option<Money>,
    /// Non-monetary value (percent).
    pub value: Option<f64>,
}

/// ClaimResponse/EOB total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Total {
    /// Category (required).
    pub category: CodeableConcept,
    /// Amount (required).
    pub amount: Money,
}

/// ClaimResponse/EOB payment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// complete | partial (required in ClaimResponse).
    #[serde(rename = "type")]
    pub type_: Option<CodeableConcept>,
    /// Payment adjustment (not claim related).
    pub adjustment: Option<Money>,
    /// Why.
    pub adjustment_reason: Option<CodeableConcept>,
    /// Expected date of payment.
    pub date: Option<FhirDate>,
    /// Payable amount (required in ClaimResponse).
    pub amount: Option<Money>,
    /// Check or EFT number.
    pub identifier: Option<Identifier>,
}

/// ClaimResponse.item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseItem {
    /// The claim line (required).
    pub item_sequence: u32,
    /// Adjudications (1..*).
    #[serde(default)]
    pub adjudication: Vec<Adjudication>,
}

/// ClaimResponse.error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseError {
    /// The line, if any.
    pub item_sequence: Option<u32>,
    /// Error code (required).
    pub code: CodeableConcept,
}

/// ClaimResponse (R4 requires `status`, `type`, `use`, `patient`, `created`,
/// `insurer`, `outcome`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimResponse {
    /// Logical id.
    pub id: Option<String>,
    /// Contained resources.
    #[serde(default)]
    pub contained: Vec<Contained>,
    /// Business identifiers (the payer's claim control number).
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// active | cancelled | draft | entered-in-error.
    pub status: String,
    /// Claim type.
    #[serde(rename = "type")]
    pub type_: CodeableConcept,
    /// claim | preauthorization | predetermination.
    #[serde(rename = "use")]
    pub use_: String,
    /// The patient.
    pub patient: Reference,
    /// Created.
    pub created: FhirDateTime,
    /// The payer.
    pub insurer: Reference,
    /// The provider.
    pub requestor: Option<Reference>,
    /// The claim adjudicated.
    pub request: Option<Reference>,
    /// queued | complete | error | partial.
    pub outcome: String,
    /// Disposition message.
    pub disposition: Option<String>,
    /// Lines.
    #[serde(default)]
    pub item: Vec<ResponseItem>,
    /// Header adjudications.
    #[serde(default)]
    pub adjudication: Vec<Adjudication>,
    /// Totals.
    #[serde(default)]
    pub total: Vec<Total>,
    /// Payment.
    pub payment: Option<Payment>,
    /// Processing errors.
    #[serde(default)]
    pub error: Vec<ResponseError>,
}

/// A contained resource (the parts medledger reads: type, id and
/// Coverage.payor; the rest is ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contained {
    /// Resource type (required).
    pub resource_type: String,
    /// Local id (`#id`).
    pub id: Option<String>,
    /// Coverage.payor.
    #[serde(default)]
    pub payor: Vec<Reference>,
}

/// EOB.insurance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EobInsurance {
    /// Focal (required).
    pub focal: bool,
    /// The coverage (required).
    pub coverage: Reference,
    /// Prior authorisation numbers.
    #[serde(default)]
    pub pre_auth_ref: Vec<String>,
}

/// EOB.item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EobItem {
    /// Line number (required).
    pub sequence: u32,
    /// careTeam sequences.
    #[serde(default)]
    pub care_team_sequence: Vec<u32>,
    /// diagnosis sequences.
    #[serde(default)]
    pub diagnosis_sequence: Vec<u32>,
    /// Revenue code.
    pub revenue: Option<CodeableConcept>,
    /// Benefit category.
    pub category: Option<CodeableConcept>,
    /// Service (required).
    pub product_or_service: CodeableConcept,
    /// Modifiers.
    #[serde(default)]
    pub modifier: Vec<CodeableConcept>,
    /// Date of service.
    pub serviced_date: Option<FhirDate>,
    /// Period of service.
    pub serviced_period: Option<Period>,
    /// Place of service.
    pub location_codeable_concept: Option<CodeableConcept>,
    /// Units.
    pub quantity: Option<Quantity>,
    /// Fee per unit.
    pub unit_price: Option<Money>,
    /// Line total.
    pub net: Option<Money>,
    /// Encounters.
    #[serde(default)]
    pub encounter: Vec<Reference>,
    /// Adjudications.
    #[serde(default)]
    pub adjudication: Vec<Adjudication>,
}

/// ExplanationOfBenefit (R4 requires `status`, `type`, `use`, `patient`,
/// `created`, `insurer`, `provider`, `outcome`, `insurance` 1..*).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExplanationOfBenefit {
    /// Logical id.
    pub id: Option<String>,
    /// Contained resources.
    #[serde(default)]
    pub contained: Vec<Contained>,
    /// Business identifiers.
    #[serde(default)]
    pub identifier: Vec<Identifier>,
    /// active | cancelled | draft | entered-in-error.
    pub status: String,
    /// Claim type.
    #[serde(rename = "type")]
    pub type_: CodeableConcept,
    /// claim | preauthorization | predetermination.
    #[serde(rename = "use")]
    pub use_: String,
    /// The patient.
    pub patient: Reference,
    /// Service period.
    pub billable_period: Option<Period>,
    /// Created.
    pub created: FhirDateTime,
    /// The payer.
    pub insurer: Reference,
    /// The provider.
    pub provider: Reference,
    /// The claim.
    pub claim: Option<Reference>,
    /// The ClaimResponse.
    pub claim_response: Option<Reference>,
    /// queued | complete | error | partial.
    pub outcome: String,
    /// Disposition message.
    pub disposition: Option<String>,
    /// Care team.
    #[serde(default)]
    pub care_team: Vec<CareTeam>,
    /// Diagnoses.
    #[serde(default)]
    pub diagnosis: Vec<ClaimDiagnosis>,
    /// Procedures.
    #[serde(default)]
    pub procedure: Vec<ClaimProcedure>,
    /// Insurance (1..*).
    #[serde(default)]
    pub insurance: Vec<EobInsurance>,
    /// Lines.
    #[serde(default)]
    pub item: Vec<EobItem>,
    /// Header adjudications.
    #[serde(default)]
    pub adjudication: Vec<Adjudication>,
    /// Totals.
    #[serde(default)]
    pub total: Vec<Total>,
    /// Payment.
    pub payment: Option<Payment>,
}

/// A resource of a known R4 type that medledger does not model (kept by
/// type and id, so references to it resolve).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherResource {
    /// Its resourceType.
    #[serde(rename = "resourceType")]
    pub resource_type: String,
    /// Its id.
    pub id: Option<String>,
}

/// A resource of a bundle entry.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Resource {
    /// Patient.
    Patient(Patient),
    /// Encounter.
    Encounter(Encounter),
    /// Condition.
    Condition(Condition),
    /// Procedure.
    Procedure(Procedure),
    /// Observation.
    Observation(Observation),
    /// DocumentReference.
    DocumentReference(DocumentReference),
    /// Coverage.
    Coverage(Coverage),
    /// Organization.
    Organization(Organization),
    /// Practitioner.
    Practitioner(Practitioner),
    /// Claim.
    Claim(Claim),
    /// ClaimResponse.
    ClaimResponse(ClaimResponse),
    /// ExplanationOfBenefit.
    ExplanationOfBenefit(ExplanationOfBenefit),
    /// Any other R4 resource type.
    Other(OtherResource),
}

macro_rules! each_resource {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            Resource::Patient($r) => $e,
            Resource::Encounter($r) => $e,
            Resource::Condition($r) => $e,
            Resource::Procedure($r) => $e,
            Resource::Observation($r) => $e,
            Resource::DocumentReference($r) => $e,
            Resource::Coverage($r) => $e,
            Resource::Organization($r) => $e,
            Resource::Practitioner($r) => $e,
            Resource::Claim($r) => $e,
            Resource::ClaimResponse($r) => $e,
            Resource::ExplanationOfBenefit($r) => $e,
            Resource::Other($r) => $e,
        }
    };
}

impl Resource {
    /// Its resourceType.
    pub fn resource_type(&self) -> &str {
        match self {
            Resource::Patient(_) => "Patient",
            Resource::Encounter(_) => "Encounter",
            Resource::Condition(_) => "Condition",
            Resource::Procedure(_) => "Procedure",
            Resource::Observation(_) => "Observation",
            Resource::DocumentReference(_) => "DocumentReference",
            Resource::Coverage(_) => "Coverage",
            Resource::Organization(_) => "Organization",
            Resource::Practitioner(_) => "Practitioner",
            Resource::Claim(_) => "Claim",
            Resource::ClaimResponse(_) => "ClaimResponse",
            Resource::ExplanationOfBenefit(_) => "ExplanationOfBenefit",
            Resource::Other(o) => &o.resource_type,
        }
    }

    /// Its logical id.
    pub fn id(&self) -> Option<&str> {
        each_resource!(self, r => r.id.as_deref())
    }

    /// The resource as FHIR JSON (with `resourceType`, nulls and empty
    /// arrays left out).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = each_resource!(self, r => serde_json::to_value(r).unwrap_or_default());
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("resourceType".into(), self.resource_type().into());
        }
        crate::prune(&mut v);
        v
    }
}

impl Serialize for Resource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// Every resource type of FHIR R4 (4.0.1): 146, Bundle and Parameters included.
pub const R4_RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// Whether `t` is an R4 resource type.
pub fn is_r4_resource_type(t: &str) -> bool {
    R4_RESOURCE_TYPES.binary_search(&t).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_list_sorted_and_complete() {
        let mut sorted = R4_RESOURCE_TYPES.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, R4_RESOURCE_TYPES);
        assert_eq!(R4_RESOURCE_TYPES.len(), 146);
        assert!(is_r4_resource_type("ExplanationOfBenefit"));
        assert!(!is_r4_resource_type("Explanationofbenefit"));
    }
}
