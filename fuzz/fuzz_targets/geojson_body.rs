//! A GeoJSON request body (a Geometry, a Feature or a one-feature FeatureCollection), read as
//! the analyses read a POSTed subject: `analysis::subject::geometry` in CRS84 and in EPSG:4326's
//! latitude, longitude order, then `into_working` (area of use, reprojection, validation).
//! Invariants: a geometry the reader accepts validates or gets a named reason; one that
//! `into_working` accepts is valid in the working CRS; every error has a message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use territorio::analysis::subject::{self, InputCrs};
use territorio_fuzz::{check_geometry, check_message, WORKING_CRS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The API answers 400 to a body that is not a JSON object before reading it.
    if !text.trim_start().starts_with('{') {
        return;
    }
    match territorio::geojson_io::parse_geometry(text) {
        Ok(g) => check_geometry(&g),
        Err(e) => check_message(&e),
    }
    let lat_lon = InputCrs {
        id: "EPSG:4326".into(),
        northing_first: true,
    };
    for crs in [InputCrs::crs84(), lat_lon] {
        match subject::geometry("body", text, &crs) {
            Ok(g) => {
                check_geometry(&g);
                match subject::into_working("body", g, &crs, WORKING_CRS) {
                    Ok(w) => assert_eq!(territorio::validate::check(&w), None, "{w:?}"),
                    Err(e) => check_message(&e),
                }
            }
            Err(e) => check_message(&e),
        }
    }
});
