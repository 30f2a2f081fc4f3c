//! Coordinates against reference values (PROJ 9.1.1 reference points for Milan, in the stack
//! notes) and axis order, the classic GIS bug.

use geo::Coord;
use territorio::crs::{Transformer, CRS84};

/// Metres between two lon/lat points close together (equirectangular is exact enough at 1 m).
fn metres_apart(a: Coord<f64>, b: Coord<f64>) -> f64 {
    let r = 6_371_008.8;
    let lat = (a.y + b.y).to_radians() / 2.0;
    let dx = (a.x - b.x).to_radians() * r * lat.cos();
    let dy = (a.y - b.y).to_radians() * r;
    dx.hypot(dy)
}

#[test]
fn utm32n_point_matches_reference_within_a_metre() {
    let t = Transformer::new("EPSG:32632", CRS84).unwrap();
    let got = t
        .coord(Coord {
            x: 514965.0,
            y: 5034586.0,
        })
        .unwrap();
    let want = Coord {
        x: 9.1914278,
        y: 45.4646405,
    };
    let d = metres_apart(got, want);
    assert!(d < 1.0, "{got:?} is {d} m from {want:?}");
    // Tighter than the target: the reference has 7 decimals (about 1 cm).
    assert!(d < 0.05, "{d} m");
}

#[test]
fn gauss_boaga_point_matches_reference_with_its_datum_shift() {
    let t = Transformer::new("EPSG:3003", CRS84).unwrap();
    let got = t
        .coord(Coord {
            x: 1514980.0,
            y: 5034600.0,
        })
        .unwrap();
    let want = Coord {
        x: 9.1912614,
        y: 45.4645866,
    };
    let d = metres_apart(got, want);
    assert!(d < 1.0, "{got:?} is {d} m from {want:?}");
}

#[test]
fn gauss_boaga_to_utm_applies_the_monte_mario_shift() {
    // Both projections are transverse Mercator on 9°E with k = 0.9996; Gauss-Boaga's false
    // easting is 1,500,000 m against UTM's 500,000 m. Without a datum shift the difference would
    // be the false-easting shift alone; with the Monte Mario -> WGS 84 Helmert (EPSG:1660) it is
    // about dE -28.0 m, dN -20.0 m on top of it, around Milan.
    let t = Transformer::new("EPSG:3003", "EPSG:32632").unwrap();
    let (e, n) = (1514980.0, 5034600.0);
    let got = t.coord(Coord { x: e, y: n }).unwrap();
    let de = got.x - (e - 1_000_000.0);
    let dn = got.y - n;
    assert!((de + 28.0).abs() < 1.0, "dE = {de}");
    assert!((dn + 20.0).abs() < 1.0, "dN = {dn}");
}

#[test]
fn epsg_4326_is_lon_lat_in_and_out() {
    // EPSG:4326 is officially (lat, lon); territorio's transformers are normalised to (lon, lat)
    // like GeoJSON. Cremona (10.024 E, 45.133 N) lies east of the UTM 32N central meridian (9 E):
    // its easting must be above 500,000 m and its northing about 5.0 million.
    for crs in ["EPSG:4326", CRS84, "urn:ogc:def:crs:OGC:1.3:CRS84"] {
        let t = Transformer::new(crs, "EPSG:32632").unwrap();
        let c = t
            .coord(Coord {
                x: 10.024,
                y: 45.133,
            })
            .unwrap();
        assert!(c.x > 570_000.0 && c.x < 590_000.0, "{crs}: easting {}", c.x);
        assert!(
            c.y > 4_990_000.0 && c.y < 5_010_000.0,
            "{crs}: northing {}",
            c.y
        );
        let back = Transformer::new("EPSG:32632", crs)
            .unwrap()
            .coord(c)
            .unwrap();
        assert!(
            (back.x - 10.024).abs() < 1e-9 && (back.y - 45.133).abs() < 1e-9,
            "{crs}: {back:?}"
        );
    }
}

#[test]
fn round_trip_through_gauss_boaga_is_centimetric() {
    let to = Transformer::new("EPSG:32632", "EPSG:3003").unwrap();
    let from = Transformer::new("EPSG:3003", "EPSG:32632").unwrap();
    for (x, y) in [
        (580_000.0, 5_000_000.0),
        (555_000.0, 5_030_000.0),
        (630_000.0, 4_985_000.0),
    ] {
        let back = from.coord(to.coord(Coord { x, y }).unwrap()).unwrap();
        assert!(
            (back.x - x).abs() < 0.01 && (back.y - y).abs() < 0.01,
            "{back:?}"
        );
    }
}
