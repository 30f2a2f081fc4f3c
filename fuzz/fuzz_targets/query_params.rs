//! The value of a query parameter, given to every typed parser the API reads parameters with:
//! `bbox` (in CRS84, EPSG:4326's lat,lon order and EPSG:3003), the CRS parameters (`crs`,
//! `bbox-crs`, `filter-crs`, `subject-crs`), `datetime`, the lists (`sortby`, `properties`:
//! names looked up in the fuzz layer), and the `point` and `bbox` subjects of the analyses (both
//! axis orders, then moved to the working CRS as the analyses do).
//!
//! Invariants besides "no panic": an accepted bbox is finite with its lower corner first (and
//! its latitudes in range for degrees); an accepted CRS is one of the supported ones, and its URI
//! is accepted as the same CRS; an accepted interval is not open at both ends and does not end
//! before it starts; list names are trimmed and non-empty; a subject moved to the working CRS is
//! valid there; every error names the parameter.
//!
//! How the items resource puts these together (`sortby`'s `-`/`+`, `properties` selecting
//! fields) is fuzzed through the router by the http_query target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use territorio::analysis::subject::{self, InputCrs};
use territorio::api::http::query;
use territorio::crs::{self, OutputCrs};
use territorio_fuzz::{check_message, layer, WORKING_CRS};

fn output_crs(id: &str) -> OutputCrs {
    OutputCrs::new(id).expect("a supported CRS")
}

fn bbox(value: &str) {
    for id in ["OGC:CRS84", "EPSG:4326", "EPSG:3003"] {
        let c = output_crs(id);
        match query::bbox_param(value, &c) {
            Ok(r) => {
                let (min, max) = (r.min(), r.max());
                assert!(
                    [min.x, min.y, max.x, max.y].iter().all(|v| v.is_finite()),
                    "{value:?}: {r:?}"
                );
                assert!(min.x <= max.x && min.y <= max.y, "{value:?}: {r:?}");
                if c.decimals == 7 {
                    assert!(min.y >= -90.0 && max.y <= 90.0, "{value:?}: {r:?}");
                }
            }
            Err(e) => assert!(e.detail().contains("bbox"), "{}", e.detail()),
        }
    }
}

fn crs_params(value: &str) {
    let supported = crs::supported(WORKING_CRS);
    for name in ["crs", "bbox-crs", "filter-crs", "subject-crs"] {
        match query::crs_param(name, value, WORKING_CRS) {
            Ok(c) => {
                assert!(supported.iter().any(|s| *s == c.id), "{value:?}: {}", c.id);
                let again = query::crs_param(name, &c.uri, WORKING_CRS)
                    .unwrap_or_else(|e| panic!("{value:?}: its URI {}: {}", c.uri, e.detail()));
                assert_eq!(again.id, c.id, "{value:?}");
            }
            Err(e) => assert!(e.detail().contains(name), "{}", e.detail()),
        }
    }
}

fn datetime(value: &str) {
    match query::datetime_param(value) {
        Ok(span) => {
            assert!(span.start.is_some() || span.end.is_some(), "{value:?}");
            if let (Some(s), Some(e)) = (span.start, span.end) {
                assert!(s <= e, "{value:?}: {span:?}");
            }
        }
        Err(e) => assert!(e.detail().contains("datetime"), "{}", e.detail()),
    }
}

fn lists(value: &str) {
    let layer = layer();
    for name in query::names(value) {
        assert!(
            !name.is_empty() && name.trim() == name,
            "{value:?}: {name:?}"
        );
        for param in ["sortby", "properties"] {
            match query::field_param(layer, param, name) {
                Ok(i) => assert_eq!(layer.fields[i].name, name),
                Err(e) => assert!(e.detail().contains(param), "{}", e.detail()),
            }
        }
    }
}

fn subjects(value: &str) {
    let lat_lon = InputCrs {
        id: "EPSG:4326".into(),
        northing_first: true,
    };
    for crs in [InputCrs::crs84(), lat_lon] {
        let point = subject::point(value, &crs);
        let rect = subject::bbox(value, &crs).map(geo::Geometry::Rect);
        for (what, parsed) in [("point", point), ("bbox", rect)] {
            match parsed {
                Ok(g) => match subject::into_working(what, g, &crs, WORKING_CRS) {
                    Ok(w) => assert_eq!(territorio::validate::check(&w), None, "{value:?}"),
                    Err(e) => {
                        check_message(&e);
                        assert!(e.to_string().starts_with(what), "{e}");
                    }
                },
                Err(e) => assert!(e.to_string().starts_with(what), "{e}"),
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    bbox(value);
    crs_params(value);
    datetime(value);
    lists(value);
    subjects(value);
});
