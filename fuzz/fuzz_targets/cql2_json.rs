//! A `filter` in cql2-json: parsed and compiled against the fuzz layer, selected through the
//! R-tree and by a scan (the same answer), and printed back in both encodings (the same filter).
#![no_main]

use libfuzzer_sys::fuzz_target;
use territorio::filter::FilterLang;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        territorio_fuzz::check_filter(text, FilterLang::Cql2Json);
    }
});
