//! The WKB decoder that reads every feature of every layer file (`source::wkb::decode`), on
//! arbitrary bytes. Invariants: a decoded geometry validates or gets a named reason, a ring
//! problem has a text, and the geometry written back as 2D WKB decodes to the same geometry
//! (bit for bit; not checked when a coordinate is not finite), with a ring problem only if the
//! original had one (the decoder closes rings, so "not closed" goes away; a ring too short
//! stays too short).
#![no_main]

use geo::{Coord, CoordsIter, Geometry, LineString, Polygon};
use libfuzzer_sys::fuzz_target;
use territorio::source::wkb;
use territorio_fuzz::{check_geometry, check_message};

/// Little-endian 2D WKB of a decoded geometry (only the kinds the decoder yields).
fn encode(g: &Geometry<f64>, out: &mut Vec<u8>) {
    fn header(out: &mut Vec<u8>, code: u32) {
        out.push(1);
        out.extend(code.to_le_bytes());
    }
    fn count(out: &mut Vec<u8>, n: usize) {
        out.extend((n as u32).to_le_bytes());
    }
    fn coord(out: &mut Vec<u8>, c: &Coord<f64>) {
        out.extend(c.x.to_le_bytes());
        out.extend(c.y.to_le_bytes());
    }
    fn coords(out: &mut Vec<u8>, ls: &LineString<f64>) {
        count(out, ls.0.len());
        ls.0.iter().for_each(|c| coord(out, c));
    }
    fn polygon(out: &mut Vec<u8>, p: &Polygon<f64>) {
        if p.exterior().0.is_empty() && p.interiors().is_empty() {
            count(out, 0);
            return;
        }
        count(out, 1 + p.interiors().len());
        coords(out, p.exterior());
        p.interiors().iter().for_each(|r| coords(out, r));
    }
    match g {
        Geometry::Point(p) => {
            header(out, 1);
            coord(out, &p.0);
        }
        Geometry::LineString(ls) => {
            header(out, 2);
            coords(out, ls);
        }
        Geometry::Polygon(p) => {
            header(out, 3);
            polygon(out, p);
        }
        Geometry::MultiPoint(mp) => {
            header(out, 4);
            count(out, mp.0.len());
            for p in &mp.0 {
                header(out, 1);
                coord(out, &p.0);
            }
        }
        Geometry::MultiLineString(mls) => {
            header(out, 5);
            count(out, mls.0.len());
            for ls in &mls.0 {
                header(out, 2);
                coords(out, ls);
            }
        }
        Geometry::MultiPolygon(mp) => {
            header(out, 6);
            count(out, mp.0.len());
            for p in &mp.0 {
                header(out, 3);
                polygon(out, p);
            }
        }
        Geometry::GeometryCollection(gc) => {
            header(out, 7);
            count(out, gc.0.len());
            gc.0.iter().for_each(|g| encode(g, out));
        }
        other => panic!("the decoder made a {other:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    match wkb::decode(data) {
        Ok(decoded) => {
            check_geometry(&decoded.geometry);
            if let Some(problem) = &decoded.ring_problem {
                assert!(!problem.trim().is_empty());
            }
            // NaN is not equal to itself, so geo-types never sees a ring that starts with one
            // as closed, and closes it again each time: no round trip to check there.
            if !decoded
                .geometry
                .coords_iter()
                .all(|c| c.x.is_finite() && c.y.is_finite())
            {
                return;
            }
            let mut bytes = Vec::new();
            encode(&decoded.geometry, &mut bytes);
            let again = wkb::decode(&bytes)
                .unwrap_or_else(|e| panic!("{:?} written back: {e}", decoded.geometry));
            let mut bytes_again = Vec::new();
            encode(&again.geometry, &mut bytes_again);
            // Equal bytes: the same geometry, NaN and -0.0 included.
            assert_eq!(bytes, bytes_again, "{:?}", decoded.geometry);
            assert!(
                again.ring_problem.is_none() || decoded.ring_problem.is_some(),
                "{:?}: {:?} only when written back",
                decoded.geometry,
                again.ring_problem
            );
        }
        Err(e) => check_message(&e),
    }
});
