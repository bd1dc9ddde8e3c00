//! The medledger code-set engine.
//!
//! Reads the official release files as published (CDC ICD-10-CM tabular and
//! index XML and order file, CMS HCPCS Level II fixed-width file, WHO ICD-11
//! MMS simple tabulation and ICD-10/ICD-11 mapping tables, CMS NCCI PTP, MUE
//! and add-on code tables, and a user's licensed CPT file), installs them
//! into a compact data directory, and answers lookups, searches, validation
//! by date of service, Alphabetic Index walks and ICD-10 <-> ICD-11 maps.
//!
//! The engine does no network I/O and writes only inside the data directory.

pub mod abbrev;
pub mod cpt;
pub mod engine;
pub mod error;
pub mod fuzzing;
pub mod hcpcs;
pub mod icd10cm;
pub mod icd11;
pub mod icd11_cluster;
pub mod install;
pub mod lookup;
pub mod ncci;
pub mod normalize;
pub mod search;
pub mod store;

pub use engine::Engine;
pub use error::{Error, Position, Result};
pub use install::{InstallOptions, InstallReport, NoProgress, Progress, install, remove};
pub use jiff::civil::Date;
pub use normalize::System;
