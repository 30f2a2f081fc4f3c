//! Unit tests: parsing and typing errors, and evaluation on a small hand-made layer whose
//! answers are worked out by hand.

use geo::{point, polygon, Geometry};

use super::*;
use crate::catalog::{LayerConfig, System};
use crate::feature::{Feature, FeatureId, Field, Value};

const UTM: &str = "EPSG:32632";

fn square(x: f64, y: f64, side: f64) -> Geometry<f64> {
    Geometry::Polygon(polygon![
        (x: x, y: y), (x: x + side, y: y), (x: x + side, y: y + side), (x: x, y: y + side)
    ])
}

/// Four features in UTM 32N near Cremona (x ~ 580 km, y ~ 4998 km).
fn layer() -> Layer {
    let fields = vec![
        Field {
            name: "name".into(),
            ty: FieldType::String,
        },
        Field {
            name: "population".into(),
            ty: FieldType::Int,
        },
        Field {
            name: "area_ha".into(),
            ty: FieldType::Real,
        },
        Field {
            name: "capital".into(),
            ty: FieldType::Bool,
        },
        Field {
            name: "founded".into(),
            ty: FieldType::Date,
        },
        Field {
            name: "updated".into(),
            ty: FieldType::DateTime,
        },
        Field {
            name: "note".into(),
            ty: FieldType::String,
        },
    ];
    let (x, y) = (580_000.0, 4_998_000.0);
    let s = |v: &str| Value::String(v.into());
    let rows = vec![
        (
            square(x, y, 1000.0),
            vec![
                s("Cremona"),
                Value::Int(71_000),
                Value::Real(7_000.5),
                Value::Bool(true),
                Value::Date("1098-05-01".into()),
                Value::DateTime("2026-01-01T10:00:00+01:00".into()),
                s("100% city_centre"),
            ],
            None,
        ),
        (
            square(x + 2000.0, y, 1000.0),
            vec![
                s("Crema"),
                Value::Int(34_000),
                Value::Real(4_600.0),
                Value::Bool(false),
                Value::Date("1185-01-01".into()),
                Value::DateTime("2026-01-01T09:30:00Z".into()),
                Value::Null,
            ],
            None,
        ),
        (
            Geometry::Point(point!(x: x + 500.0, y: y + 500.0)),
            vec![
                s("CASALMAGGIORE"),
                Value::Null,
                Value::Real(6_400.0),
                Value::Bool(false),
                Value::Null,
                Value::Null,
                s("100X cityXcentre"),
            ],
            None,
        ),
        (
            // A bow-tie, flagged invalid.
            Geometry::Polygon(polygon![
                (x: x, y: y + 3000.0), (x: x + 1000.0, y: y + 4000.0),
                (x: x + 1000.0, y: y + 3000.0), (x: x, y: y + 4000.0)
            ]),
            vec![
                s("Soresina"),
                Value::Int(9_000),
                Value::Real(2_800.0),
                Value::Bool(false),
                Value::Date("1200-06-30".into()),
                Value::Null,
                Value::Null,
            ],
            Some("self-intersection".to_string()),
        ),
    ];
    let features = rows
        .into_iter()
        .enumerate()
        .map(|(i, (geometry, values, invalid))| Feature {
            id: FeatureId::Int(i as i64 + 1),
            geometry,
            values: values.into(),
            invalid: invalid.map(crate::feature::Text::from),
        })
        .collect();
    Layer::new(
        LayerConfig {
            id: "towns".into(),
            title: "towns".into(),
            description: String::new(),
            system: System::Settlement,
            source: "memory".into(),
            table: None,
            geometry_column: None,
            database: None,
            layer: None,
            id_field: None,
            crs: None,
            style: None,
            edit: None,
            field_rules: Vec::new(),
        },
        UTM.into(),
        "memory".into(),
        fields,
        features,
    )
    .expect("test layer")
}

fn compile(l: &Layer, text: &str) -> Result<Filter, FilterError> {
    Filter::compile(text, FilterLang::Cql2Text, l, UTM, UTM)
}

fn hits(l: &Layer, text: &str) -> Vec<u32> {
    let f = compile(l, text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let scan: Vec<u32> = (0..l.features.len() as u32)
        .filter(|&i| f.matches(&l.features[i as usize]))
        .collect();
    assert_eq!(f.select(l), scan, "{text}: select vs scan");
    // Bounded: the same answer when the filter restricts space, nothing when it does not, or
    // when there are more candidates than allowed.
    match f.envelope() {
        Some(_) => {
            assert_eq!(
                f.select_bounded(l, 1000),
                Some(scan.clone()),
                "{text}: bounded"
            );
            let candidates = l.candidates(&f.envelope().unwrap()).count();
            if candidates > 0 {
                assert_eq!(
                    f.select_bounded(l, candidates - 1),
                    None,
                    "{text}: over the bound"
                );
            }
        }
        None if scan.is_empty() => {}
        None => assert_eq!(
            f.select_bounded(l, 1000),
            None,
            "{text}: no space restriction"
        ),
    }
    scan
}

fn err(l: &Layer, text: &str) -> String {
    match compile(l, text) {
        Ok(_) => panic!("{text}: compiled"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn filters_are_send_and_sync() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Filter>();
}

#[test]
fn lang_names() {
    assert_eq!(
        "cql2-text".parse::<FilterLang>().unwrap(),
        FilterLang::Cql2Text
    );
    assert_eq!(
        "cql2-json".parse::<FilterLang>().unwrap(),
        FilterLang::Cql2Json
    );
    let e = "ecql".parse::<FilterLang>().unwrap_err().to_string();
    assert!(e.contains("\"ecql\""), "{e}");
}

#[test]
fn queryables_are_the_fields_and_the_geometry() {
    let l = layer();
    let q = queryables(&l);
    assert_eq!(q.len(), 8);
    assert_eq!(q[1].name, "population");
    assert_eq!(q[1].ty, QueryableType::Field(FieldType::Int));
    assert_eq!(q[7].name, "geometry");
    assert_eq!(q[7].ty, QueryableType::Geometry);
}

#[test]
fn syntax_errors_give_a_position() {
    let l = layer();
    let e = err(&l, "name = = 'x'");
    assert!(
        e.contains("cql2-text syntax error: at line 1, column 8"),
        "{e}"
    );
    let e = match Filter::compile("{\"op\":\"=\",", FilterLang::Cql2Json, &l, UTM, UTM) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("compiled"),
    };
    assert!(
        e.contains("cql2-json syntax error") && e.contains("line 1"),
        "{e}"
    );
    let deep = format!("{}name = 'x'{}", "(".repeat(200), ")".repeat(200));
    assert!(err(&l, &deep).contains("nested too deeply"));
}

#[test]
fn unknown_property_lists_the_queryables() {
    let l = layer();
    let e = err(&l, "xyz = 1");
    assert!(e.contains("unknown property \"xyz\""), "{e}");
    assert!(
        e.contains("name, population, area_ha, capital, founded, updated, note, geometry"),
        "{e}"
    );
    assert!(err(&l, "S_INTERSECTS(geom, POINT(1 2))").contains("\"geom\""));
}

#[test]
fn type_mismatches_name_the_property_its_type_and_the_literal() {
    let l = layer();
    let e = err(&l, "name = 5");
    assert!(e.contains("\"name\" is string") && e.contains("5"), "{e}");
    let e = err(&l, "population > '1000'");
    assert!(
        e.contains("\"population\" is integer") && e.contains("'1000'") && e.contains("a string"),
        "{e}"
    );
    let e = err(&l, "capital = 'yes'");
    assert!(e.contains("\"capital\" is boolean"), "{e}");
    let e = err(&l, "name IN ('a', 2)");
    assert!(e.contains("\"name\""), "{e}");
    let e = err(&l, "population LIKE '1%'");
    assert!(e.contains("\"population\" is integer"), "{e}");
    let e = err(&l, "population = name");
    assert!(e.contains("\"population\" is integer") && e.contains("\"name\" is string"));
    let e = err(&l, "founded > TIMESTAMP('2026-01-01T00:00:00Z')");
    assert!(e.contains("\"founded\" is date"), "{e}");
    let e = err(&l, "founded > DATE('2026-13-01')");
    assert!(e.contains("2026-13-01") && e.contains("not a date"), "{e}");
    let e = err(&l, "CASEI(population) = 3");
    assert!(e.contains("CASEI") && e.contains("\"population\""), "{e}");
    let e = err(&l, "S_INTERSECTS(name, POINT(1 2))");
    assert!(e.contains("\"name\" is string"), "{e}");
    let e = err(&l, "capital < TRUE");
    assert!(e.contains("no order"), "{e}");
}

#[test]
fn unsupported_operators_are_named() {
    let l = layer();
    let e = err(&l, "T_BEFORE(updated, TIMESTAMP('2026-01-01T00:00:00Z'))");
    assert!(e.contains("t_before") && e.contains("temporal"), "{e}");
    let e = err(&l, "population + 1 > 5");
    assert!(e.contains("\"+\"") && e.contains("arithmetic"), "{e}");
    let e = err(&l, "ACCENTI(name) = 'x'");
    assert!(e.contains("ACCENTI"), "{e}");
    let e = err(&l, "myfunction(name) = 'x'");
    assert!(e.contains("myfunction"), "{e}");
    let e = err(&l, "S_INTERSECTS(geometry, geometry)");
    assert!(
        e.contains("S_INTERSECTS") && e.contains("two properties"),
        "{e}"
    );
    let e = err(&l, "name LIKE note");
    assert!(e.contains("LIKE") && e.contains("literal"), "{e}");
    let e = err(&l, "note LIKE 'abc\\'");
    assert!(e.contains("unescaped"), "{e}");
}

#[test]
fn bad_geometry_literals_are_refused() {
    let l = layer();
    let e = err(
        &l,
        "S_INTERSECTS(geometry, POLYGON((0 0, 2 2, 2 0, 0 2, 0 0)))",
    );
    assert!(e.contains("bad geometry literal"), "{e}");
    let e = err(&l, "S_INTERSECTS(geometry, BBOX(10, 0, 0, 10))");
    assert!(
        e.contains("bad geometry literal") && e.contains("BBOX"),
        "{e}"
    );
    let e = err(&l, "S_INTERSECTS(geometry, POINT EMPTY)");
    assert!(e.contains("bad geometry literal"), "{e}");
    // Latitude 95 has no place in UTM.
    let e = match Filter::compile(
        "S_INTERSECTS(geometry, POINT(10 95))",
        FilterLang::Cql2Text,
        &l,
        "OGC:CRS84",
        UTM,
    ) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("compiled"),
    };
    assert!(e.contains("OGC:CRS84"), "{e}");
    let e = match Filter::compile(
        "S_INTERSECTS(geometry, POINT(10 45))",
        FilterLang::Cql2Text,
        &l,
        "EPSG:999999",
        UTM,
    ) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("compiled"),
    };
    assert!(e.contains("EPSG:999999"), "{e}");
}

#[test]
fn comparisons_and_nulls() {
    let l = layer();
    assert_eq!(hits(&l, "name = 'Crema'"), vec![1]);
    assert_eq!(hits(&l, "\"name\" <> 'Crema'"), vec![0, 2, 3]);
    assert_eq!(hits(&l, "population >= 34000"), vec![0, 1]);
    // NULL population (feature 2) is in neither a comparison nor its negation.
    assert_eq!(hits(&l, "population < 34000"), vec![3]);
    assert_eq!(hits(&l, "NOT population < 34000"), vec![0, 1]);
    assert_eq!(hits(&l, "population IS NULL"), vec![2]);
    assert_eq!(hits(&l, "population IS NOT NULL"), vec![0, 1, 3]);
    assert_eq!(hits(&l, "population = NULL"), Vec::<u32>::new());
    assert_eq!(hits(&l, "area_ha > 7000"), vec![0]);
    assert_eq!(hits(&l, "area_ha = 4600"), vec![1]);
    assert_eq!(hits(&l, "capital"), vec![0]);
    assert_eq!(hits(&l, "capital = FALSE"), vec![1, 2, 3]);
    assert_eq!(hits(&l, "population BETWEEN 9000 AND 34000"), vec![1, 3]);
    assert_eq!(hits(&l, "population NOT BETWEEN 9000 AND 34000"), vec![0]);
    assert_eq!(
        hits(&l, "name IN ('Crema', 'Soresina', 'Pavia')"),
        vec![1, 3]
    );
    assert_eq!(hits(&l, "name NOT IN ('Crema', 'Soresina')"), vec![0, 2]);
    assert_eq!(hits(&l, "TRUE"), vec![0, 1, 2, 3]);
    assert_eq!(hits(&l, "FALSE"), Vec::<u32>::new());
    assert_eq!(hits(&l, "geometry IS NULL"), Vec::<u32>::new());
    // AND binds tighter than OR; NOT tighter than AND.
    assert_eq!(
        hits(&l, "name = 'Crema' OR name = 'Cremona' AND capital = FALSE"),
        vec![1]
    );
    assert_eq!(
        hits(&l, "(name = 'Crema' OR name = 'Cremona') AND NOT capital"),
        vec![1]
    );
}

#[test]
fn casei_and_like() {
    let l = layer();
    assert_eq!(hits(&l, "CASEI(name) = CASEI('casalMaggiore')"), vec![2]);
    assert_eq!(hits(&l, "name = 'casalmaggiore'"), Vec::<u32>::new());
    assert_eq!(hits(&l, "name LIKE 'Crem%'"), vec![0, 1]);
    assert_eq!(hits(&l, "name LIKE 'Crem_'"), vec![1]);
    assert_eq!(hits(&l, "name NOT LIKE 'Crem%'"), vec![2, 3]);
    assert_eq!(hits(&l, "CASEI(name) LIKE CASEI('cas%')"), vec![2]);
    assert_eq!(hits(&l, "name LIKE 'cas%'"), Vec::<u32>::new());
    // Escaped wildcards: a literal % and _.
    assert_eq!(hits(&l, "note LIKE '100\\% city\\_%'"), vec![0]);
    assert_eq!(hits(&l, "note LIKE '100_ city_centre'"), vec![0, 2]);
}

#[test]
fn dates_and_timestamps() {
    let l = layer();
    assert_eq!(hits(&l, "founded < DATE('1150-01-01')"), vec![0]);
    assert_eq!(hits(&l, "founded >= '1185-01-01'"), vec![1, 3]);
    assert_eq!(
        hits(
            &l,
            "founded BETWEEN DATE('1100-01-01') AND DATE('1190-12-31')"
        ),
        vec![1]
    );
    // 10:00+01:00 is 09:00Z, before Crema's 09:30Z.
    assert_eq!(
        hits(&l, "updated < TIMESTAMP('2026-01-01T09:15:00Z')"),
        vec![0]
    );
    assert_eq!(hits(&l, "updated > '2026-01-01T09:15:00Z'"), vec![1]);
}

#[test]
fn spatial_operators_on_hand_checked_geometry() {
    let l = layer();
    let (x, y) = (580_000.0, 4_998_000.0);
    // A point inside the first square (and on the point feature 2? no: 2 is at +500,+500).
    let p = format!("POINT({} {})", x + 100.0, y + 100.0);
    assert_eq!(hits(&l, &format!("S_INTERSECTS(geometry, {p})")), vec![0]);
    assert_eq!(hits(&l, &format!("S_INTERSECTS({p}, geometry)")), vec![0]);
    assert_eq!(hits(&l, &format!("S_CONTAINS(geometry, {p})")), vec![0]);
    assert_eq!(hits(&l, &format!("S_WITHIN({p}, geometry)")), vec![0]);
    assert_eq!(
        hits(&l, &format!("S_DISJOINT(geometry, {p})")),
        vec![1, 2, 3]
    );
    // A box around both squares' bottom halves and the point feature.
    let b = format!(
        "BBOX({}, {}, {}, {})",
        x - 10.0,
        y - 10.0,
        x + 3010.0,
        y + 600.0
    );
    assert_eq!(
        hits(&l, &format!("S_INTERSECTS(geometry, {b})")),
        vec![0, 1, 2]
    );
    assert_eq!(hits(&l, &format!("S_WITHIN(geometry, {b})")), vec![2]);
    assert_eq!(hits(&l, &format!("S_OVERLAPS(geometry, {b})")), vec![0, 1]);
    // A square sharing the first square's right edge touches it.
    let touching = format!(
        "POLYGON(({a} {y0}, {b} {y0}, {b} {y1}, {a} {y1}, {a} {y0}))",
        a = x + 1000.0,
        b = x + 1500.0,
        y0 = y,
        y1 = y + 1000.0
    );
    assert_eq!(
        hits(&l, &format!("S_TOUCHES(geometry, {touching})")),
        vec![0]
    );
    // A line from the first square to the second crosses both.
    let line = format!(
        "LINESTRING({} {}, {} {})",
        x + 500.0,
        y + 200.0,
        x + 2500.0,
        y + 200.0
    );
    assert_eq!(
        hits(&l, &format!("S_CROSSES(geometry, {line})")),
        vec![0, 1]
    );
    let same = format!(
        "POLYGON(({x0} {y0}, {x0} {y1}, {x1} {y1}, {x1} {y0}, {x0} {y0}))",
        x0 = x + 2000.0,
        x1 = x + 3000.0,
        y0 = y,
        y1 = y + 1000.0
    );
    assert_eq!(hits(&l, &format!("S_EQUALS(geometry, {same})")), vec![1]);
    // The invalid bow-tie (3) takes part in S_INTERSECTS but is unknown for S_WITHIN.
    let around = format!(
        "BBOX({}, {}, {}, {})",
        x - 10.0,
        y + 2990.0,
        x + 1010.0,
        y + 4010.0
    );
    assert_eq!(
        hits(&l, &format!("S_INTERSECTS(geometry, {around})")),
        vec![3]
    );
    assert_eq!(
        hits(&l, &format!("S_WITHIN(geometry, {around})")),
        Vec::<u32>::new()
    );
    assert_eq!(
        hits(&l, &format!("NOT S_WITHIN(geometry, {around})")),
        vec![0, 1, 2]
    );
}

#[test]
fn envelope_follows_the_logic() {
    let l = layer();
    let env = |t: &str| compile(&l, t).unwrap().envelope();
    let b = "BBOX(580000, 4998000, 580100, 4998100)";
    let big = "BBOX(570000, 4990000, 590000, 5000000)";
    let small = env(&format!("S_INTERSECTS(geometry, {b})")).unwrap();
    assert_eq!(small.min(), geo::coord! {x: 580_000.0, y: 4_998_000.0});
    assert_eq!(small.max(), geo::coord! {x: 580_100.0, y: 4_998_100.0});
    assert_eq!(
        env(&format!(
            "S_INTERSECTS(geometry, {big}) AND name = 'x' AND S_WITHIN(geometry, {b})"
        )),
        Some(small)
    );
    assert_eq!(
        env(&format!("S_INTERSECTS(geometry, {b}) OR name = 'x'")),
        None
    );
    assert_eq!(env(&format!("NOT S_INTERSECTS(geometry, {b})")), None);
    assert_eq!(env(&format!("S_DISJOINT(geometry, {b})")), None);
    let union = env(&format!(
        "S_INTERSECTS(geometry, {b}) OR S_INTERSECTS(geometry, POINT(581000 4999000))"
    ))
    .unwrap();
    assert_eq!(union.max(), geo::coord! {x: 581_000.0, y: 4_999_000.0});
}

#[test]
fn json_and_text_agree() {
    let l = layer();
    let json = |t: &str| {
        let f = Filter::compile(t, FilterLang::Cql2Json, &l, UTM, UTM)
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        (0..l.features.len() as u32)
            .filter(|&i| f.matches(&l.features[i as usize]))
            .collect::<Vec<u32>>()
    };
    assert_eq!(
        json(r#"{"op":"=","args":[{"property":"name"},"Crema"]}"#),
        vec![1]
    );
    assert_eq!(
        json(
            r#"{"op":"like","args":[{"op":"casei","args":[{"property":"name"}]},{"op":"casei","args":["CREM%"]}]}"#
        ),
        vec![0, 1]
    );
    assert_eq!(
        json(
            r#"{"op":"s_intersects","args":[{"property":"geometry"},{"bbox":[579990,4997990,583010,4998600]}]}"#
        ),
        vec![0, 1, 2]
    );
    assert_eq!(
        json(
            r#"{"op":"s_intersects","args":[{"property":"geometry"},{"type":"Point","coordinates":[580100,4998100]}]}"#
        ),
        vec![0]
    );
    assert_eq!(
        json(r#"{"op":"isNull","args":[{"property":"population"}]}"#),
        vec![2]
    );
}

// --- The fast path (`fast`) against the general parser ---

/// The general path alone: the `cql2` parser, then the compiler.
fn general(l: &Layer, text: &str, filter_crs: &str) -> Result<String, FilterError> {
    let ctx = compile::Context::new(l, filter_crs, UTM);
    let root = ctx.predicate(&compile::parse(text, FilterLang::Cql2Text)?, 0)?;
    Ok(format!("{root:?}"))
}

fn fast_path(l: &Layer, text: &str, filter_crs: &str) -> Option<String> {
    let ctx = compile::Context::new(l, filter_crs, UTM);
    fast::compile(text, &ctx).map(|root| format!("{root:?}"))
}

/// A small deterministic generator (xorshift), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A filter in the fast path's subset, in the spelling variety clients use.
fn generated(rng: &mut Rng, lat_first: bool) -> String {
    let ws = |rng: &mut Rng| rng.pick(&["", "", " ", "  ", "\t", "\n"]).to_string();
    let mut terms = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let term = match rng.below(5) {
            0 | 1 => {
                // Around the test layer (about 9.99 E, 45.12 N).
                let lon = 9.95 + rng.unit() * 0.1;
                let lat = 45.08 + rng.unit() * 0.1;
                let (a, b) = if lat_first { (lat, lon) } else { (lon, lat) };
                let digits = 1 + rng.below(8);
                format!(
                    "{}({}geometry{},{}{}{}({}{a:.digits$} {b:.digits$}{}){})",
                    rng.pick(&["S_INTERSECTS", "s_intersects", "S_Intersects"]),
                    ws(rng),
                    ws(rng),
                    ws(rng),
                    rng.pick(&["POINT", "point", "Point"]),
                    ws(rng),
                    ws(rng),
                    ws(rng),
                    ws(rng),
                )
            }
            2 => {
                let lon = 9.95 + rng.unit() * 0.1;
                let lat = 45.08 + rng.unit() * 0.1;
                let (w, h) = (rng.unit() * 0.05, rng.unit() * 0.05);
                let [a, b, c, d] = if lat_first {
                    [lat, lon, lat + h, lon + w]
                } else {
                    [lon, lat, lon + w, lat + h]
                };
                format!(
                    "S_INTERSECTS(geometry,{}BBOX({a:.5},{}{b:.5}{},{c:.5},{d:.5}))",
                    ws(rng),
                    ws(rng),
                    ws(rng)
                )
            }
            3 => format!(
                "name{}={}'{}'",
                ws(rng),
                ws(rng),
                rng.pick(&["Cremona", "Crema", "Soncino", "", "a b", "città"])
            ),
            _ => format!(
                "{}{}={}{}",
                rng.pick(&["population", "area_ha"]),
                ws(rng),
                ws(rng),
                rng.pick(&["71000", "9000", "-3", "+5", "7000.5", "0.25", "007"])
            ),
        };
        terms.push(term);
    }
    let and = rng.pick(&[" AND ", " and ", "  And\t"]);
    terms.join(and)
}

#[test]
fn fast_path_builds_what_the_general_path_builds() {
    let l = layer();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for (filter_crs, lat_first) in [
        ("OGC:CRS84", false),
        ("EPSG:4326", true),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", false),
    ] {
        for _ in 0..400 {
            let text = generated(&mut rng, lat_first);
            let fast = fast_path(&l, &text, filter_crs)
                .unwrap_or_else(|| panic!("{text:?} ({filter_crs}) did not take the fast path"));
            let general = general(&l, &text, filter_crs)
                .unwrap_or_else(|e| panic!("{text:?} ({filter_crs}): general path: {e}"));
            assert_eq!(fast, general, "{text:?} ({filter_crs})");
        }
    }
}

#[test]
fn fast_path_hands_anything_else_to_the_general_path() {
    let l = layer();
    // Outside the subset, or errors: the general path answers, with its messages.
    for text in [
        "S_INTERSECTS(geometry,POINT(9.99 45.12 3))",
        "S_INTERSECTS(geometry,POINT Z(9.99 45.12 3))",
        "S_INTERSECTS(POINT(9.99 45.12),geometry)",
        "S_WITHIN(geometry,POINT(9.99 45.12))",
        "S_INTERSECTS(geometry,POINT(1e1 45.12))",
        "S_INTERSECTS(geometry,POINT(9.99,45.12))",
        "S_INTERSECTS(geometry,BBOX(9.9,45.1,10.0))",
        "S_INTERSECTS(geom,POINT(9.99 45.12))",
        "S_INTERSECTS(geometry,POINT(9.99 95))",
        "name = 'it''s'",
        "name = 'Cremona' OR population = 5",
        "name = 'Cremona' AND",
        "name = 'Cremona' ANDpopulation = 5",
        "(name = 'Cremona')",
        "name <> 'Cremona'",
        "name = 5",
        "population = 'five'",
        "nope = 1",
        "population = 5.",
        "population = 1.5.5",
        "population = 5x",
        "population = - 5",
        "\"name\" = 'Cremona'",
        "name\u{a0}= 'Cremona'",
        "città = 'x'",
        "and = 1",
        "NOT name = 'Cremona'",
        "",
    ] {
        assert_eq!(fast_path(&l, text, "OGC:CRS84"), None, "{text:?}");
    }
    // And the answers stay the general path's: an error names the problem as before.
    assert!(err(&l, "name = 5").contains("name"));
    assert!(err(&l, "nope = 1").contains("nope"));
}

#[test]
fn fast_path_never_disagrees_on_mutated_filters() {
    // Random edits of filters in the subset: whenever the fast path still accepts the text,
    // the general path must accept it too and build the same tree.
    let l = layer();
    let mut rng = Rng(0x0dd_ba11_cafe_f00d);
    let pieces = [
        " ", "(", ")", ",", "'", "-", "+", ".", "e", "E", "1", "0", "=", "<", "AND", "OR", "é",
        "\u{a0}", "\"", ":", "_", "x", "POINT", "BBOX", "geometry", "name", "\t",
    ];
    let mut accepted = 0;
    for _ in 0..6000 {
        let mut text = generated(&mut rng, false);
        for _ in 0..1 + rng.below(2) {
            let mut at = rng.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            match rng.below(3) {
                0 => text.insert_str(at, rng.pick(&pieces)),
                1 if at < text.len() => {
                    let c = text[at..].chars().next().expect("a character");
                    text.replace_range(at..at + c.len_utf8(), "");
                }
                _ => {
                    let piece = rng.pick(&pieces);
                    let end = text[at..]
                        .char_indices()
                        .nth(1)
                        .map_or(text.len(), |(k, _)| at + k);
                    text.replace_range(at..end, piece);
                }
            }
        }
        if let Some(fast) = fast_path(&l, &text, "OGC:CRS84") {
            accepted += 1;
            let general = general(&l, &text, "OGC:CRS84").unwrap_or_else(|e| {
                panic!("{text:?}: the fast path accepts it, the general path: {e}")
            });
            assert_eq!(fast, general, "{text:?}");
        }
    }
    // The mutations must leave many filters valid, or this test would check little.
    assert!(
        accepted > 300,
        "only {accepted} mutated filters were accepted"
    );
}

#[test]
fn fast_path_selects_what_it_should() {
    // Hand-checked answers through Filter::compile (which takes the fast path for these).
    let l = layer();
    let at = |lon: f64, lat: f64| -> (f64, f64) {
        let t = crate::crs::cached_transformer(UTM, crate::crs::CRS84).expect("transformer");
        let c = t.coord(geo::Coord { x: lon, y: lat }).expect("transform");
        (c.x, c.y)
    };
    // Inside the first square (580,000..581,000 E, 4,998,000..4,999,000 N), away from the
    // point feature at its centre, in CRS84.
    let (lon, lat) = at(580_250.0, 4_998_250.0);
    let point = format!("S_INTERSECTS(geometry,POINT({lon:.7} {lat:.7}))");
    let f = Filter::compile(&point, FilterLang::Cql2Text, &l, "OGC:CRS84", UTM).unwrap();
    assert_eq!(f.select(&l), vec![0]);
    let with_name = format!("{point} AND name = 'Cremona'");
    let f = Filter::compile(&with_name, FilterLang::Cql2Text, &l, "OGC:CRS84", UTM).unwrap();
    assert_eq!(f.select(&l), vec![0]);
    let other_name = format!("{point} AND name = 'Crema'");
    let f = Filter::compile(&other_name, FilterLang::Cql2Text, &l, "OGC:CRS84", UTM).unwrap();
    assert_eq!(f.select(&l), Vec::<u32>::new());
    assert_eq!(hits(&l, "population = 71000"), vec![0]);
}

#[test]
fn fast_path_numbers_are_what_parse_gives() {
    // Every length of integer and fraction part up to past the exact range (15 digits, 22
    // after the point), with and without sign and leading zeros, against `str::parse`, bit
    // for bit (-0 included).
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let mut checked = 0;
    for int_len in 0..20 {
        for frac_len in 0..26 {
            for _ in 0..12 {
                let mut text = String::from(rng.pick(&["", "", "-", "+"]));
                let digit = |rng: &mut Rng| char::from(b'0' + rng.below(10) as u8);
                // Integer part: at least one digit; sometimes all zeros or leading zeros.
                let zeros = rng.below(4) == 0;
                for _ in 0..int_len.max(1) {
                    text.push(if zeros { '0' } else { digit(&mut rng) });
                }
                if frac_len > 0 {
                    text.push('.');
                    let nines = rng.below(5) == 0;
                    for _ in 0..frac_len {
                        text.push(if nines { '9' } else { digit(&mut rng) });
                    }
                }
                let expected: f64 = text.parse().unwrap();
                let got =
                    fast::decimal(text.as_bytes()).unwrap_or_else(|| panic!("{text:?}: no value"));
                assert_eq!(got.to_bits(), expected.to_bits(), "{text:?}");
                checked += 1;
            }
        }
    }
    // Values whose division is a tie or near one in binary, and the ends of the exact range.
    for text in [
        "0.1",
        "0.3",
        "-0",
        "-0.0",
        "+0.000",
        "999999999999999",
        "0.9999999999999999999999",
        "123456789012345.0",
        "1.2345678901234567",
        "9007199254740993",
        "0.0000000000000000000001",
        "10.0193",
        "45.2389",
        "-179.9999999",
        "4.35",
        "2.675",
    ] {
        let expected: f64 = text.parse().unwrap();
        assert_eq!(
            fast::decimal(text.as_bytes()).map(f64::to_bits),
            Some(expected.to_bits()),
            "{text:?}"
        );
        checked += 1;
    }
    assert!(checked > 6000);
}

/// The operators `check_text_shape` counts, by hand: comparisons, arithmetic and the operator
/// keywords; not the sign of a number, nor anything quoted or inside a geometry literal.
#[test]
fn the_shape_check_counts_operators_by_hand() {
    use super::compile::check_text_shape;
    let ok = |t: &str| assert!(check_text_shape(t).is_ok(), "{t}");
    let too_many = |t: &str| match check_text_shape(t) {
        Err(FilterError::TooManyOperators { max: 128 }) => {}
        other => panic!("{t}: {other:?}"),
    };
    // 63 comparisons with a negative number joined by 62 OR: 125 operators.
    let base = vec!["population = -1"; 63].join(" OR ");
    // AND and IN: 127. The list's signs, exponents and quoted operators are not counted.
    let list = " AND name IN ('a-b', 'NOT OR = <>', -3, -4e-5, +.5, 1.5E+3, \"x-y\")";
    // AND: 128. The ring's signs are inside a geometry literal.
    let ring = " AND S_INTERSECTS(geometry, POLYGON((-1 -1, -1 1, 1 1, -1 -1)))";
    ok(&format!("{base}{list}{ring}"));
    too_many(&format!("{base}{list}{ring} AND TRUE"));
    // A `-` after an operand subtracts: AND, - and > make 128 ...
    ok(&format!("{base} AND population -1 > 0"));
    // ... and a second `-` before a number is still an operator when a space follows it.
    too_many(&format!("{base} AND population - - 1 > 0"));
    // A name may hold non-ASCII letters; a `-` after one subtracts too.
    ok(&format!("{base} AND città-1 > 0"));
    too_many(&format!("{base} AND città-1-1 > 0"));
    // A geometry literal's parentheses count towards the depth, as a function's do: n around
    // `S_INTERSECTS(geometry, POINT(1 2))` make n + 2.
    let point = |n: usize| {
        format!(
            "{}S_INTERSECTS(geometry, POINT(1 2)){}",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    ok(&point(62));
    assert!(matches!(
        check_text_shape(&point(63)),
        Err(FilterError::TooDeep { max: 64 })
    ));
    // Keywords in any case, and only whole words: `notes`, `order`, `island` are names.
    too_many(&format!("{}notes = 1", "not ".repeat(128)));
    ok(&format!("{}notes = 1", "not ".repeat(127)));
    ok(&vec!["order = island"; 128].join(","));
}
