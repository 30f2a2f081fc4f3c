//! WKT, as the `geometry=` parameter of the analyses and the CLI's `--geometry` read it:
//! `analysis::subject::geometry` (GDAL's WKT reader, then the conversion to geo-types) in CRS84,
//! then `into_working`. Invariants as for GeoJSON bodies: a geometry the reader accepts
//! validates or gets a named reason; one `into_working` accepts is valid; errors have messages.
//!
//! GDAL's C++ parser is not instrumented (only Rust code is), so libFuzzer sees the coverage of
//! the conversion and validation, not of the parser: the seed corpus and the dictionary
//! (fuzz/dict/wkt.dict) carry the syntax.
#![no_main]

use libfuzzer_sys::fuzz_target;
use territorio::analysis::subject::{self, InputCrs};
use territorio_fuzz::{check_geometry, check_message, WORKING_CRS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Text starting with '{' is read as GeoJSON: the geojson_body target's.
    if text.trim_start().starts_with('{') {
        return;
    }
    let crs = InputCrs::crs84();
    match subject::geometry("geometry", text, &crs) {
        Ok(g) => {
            check_geometry(&g);
            match subject::into_working("geometry", g, &crs, WORKING_CRS) {
                Ok(w) => assert_eq!(territorio::validate::check(&w), None, "{w:?}"),
                Err(e) => check_message(&e),
            }
        }
        Err(e) => check_message(&e),
    }
});
