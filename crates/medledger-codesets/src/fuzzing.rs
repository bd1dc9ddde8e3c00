//! One entry point over every release parser, for the fuzz target and the
//! seed-replay test: the first byte picks the parser, the rest is its input.
//! Parsers must return errors, never panic.

use crate::icd10cm::{index, order, tabular};
use crate::{cpt, hcpcs, icd11, ncci};

/// Number of parsers `parse_any` dispatches to.
pub const PARSERS: u8 = 12;

/// Runs one parser on `data[1..]`; returns whether it accepted the input.
pub fn parse_any(data: &[u8]) -> bool {
    let Some((&which, rest)) = data.split_first() else {
        return false;
    };
    match which % PARSERS {
        0 => tabular::parse_tabular(rest, "fuzz.xml").is_ok(),
        1 => index::parse_index(rest, "fuzz.xml").is_ok(),
        2 => order::parse_order(rest, "fuzz.txt").is_ok(),
        3 => hcpcs::parse_hcpcs_txt(rest, "HCPC2026_JAN_ANWEB_fuzz.txt").is_ok(),
        4 => hcpcs::parse_hcpcs_zip(rest, "fuzz.zip").is_ok(),
        5 => icd11::parse_simple_tabulation(rest, "fuzz.txt").is_ok(),
        6 => {
            let mut maps = icd11::WhoMaps::default();
            icd11::parse_map_file(icd11::MapFile::TenToElevenOne, rest, "fuzz.txt", &mut maps)
                .is_ok()
        }
        7 => {
            let mut maps = icd11::WhoMaps::default();
            icd11::parse_map_file(icd11::MapFile::ElevenToTen, rest, "fuzz.txt", &mut maps).is_ok()
        }
        8 => ncci::parse_ptp(rest, "fuzz.txt").is_ok(),
        9 => ncci::parse_mue(rest, "fuzz.csv").is_ok(),
        10 => ncci::parse_aoc(rest, "fuzz.txt").is_ok(),
        _ => cpt::parse_cpt(rest, "fuzz.txt").is_ok(),
    }
}
