//! Inputs the fuzz targets (fuzz/, scripts/fuzz) found, each turned into a test of what the
//! crate must do with it. The fuzz target and the artifact are named at each test.

use std::time::{Duration, Instant};

use geo::{polygon, Geometry};
use territorio::catalog::{LayerConfig, System};
use territorio::feature::{Feature, FeatureId, Field, FieldType, Value};
use territorio::filter::{Filter, FilterError, FilterLang, MAX_DEPTH, MAX_OPERATORS};
use territorio::store::Layer;

const UTM: &str = "EPSG:32632";
const CRS84: &str = "OGC:CRS84";

/// A layer with the fuzz targets' fields (fuzz/src/lib.rs): one square near Cremona.
fn layer() -> Layer {
    let field = |name: &str, ty| Field {
        name: name.into(),
        ty,
    };
    let fields = vec![
        field("name", FieldType::String),
        field("population", FieldType::Int),
        field("area_ha", FieldType::Real),
    ];
    let (x, y) = (580_000.0, 4_998_000.0);
    let feature = Feature {
        id: FeatureId::Str("CR".into()),
        geometry: Geometry::Polygon(polygon![
            (x: x, y: y), (x: x + 1000.0, y: y), (x: x + 1000.0, y: y + 1000.0), (x: x, y: y + 1000.0)
        ]),
        values: vec![
            Value::String("Cremona".into()),
            Value::Int(71_000),
            Value::Real(7_000.5),
        ]
        .into(),
        invalid: None,
    };
    let config = LayerConfig {
        id: "towns".into(),
        title: "Towns".into(),
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
    };
    Layer::new(config, UTM.into(), "memory".into(), fields, vec![feature]).unwrap()
}

fn compile(layer: &Layer, text: &str, lang: FilterLang) -> (Result<Filter, FilterError>, Duration) {
    let started = Instant::now();
    let result = Filter::compile(text, lang, layer, CRS84, UTM);
    (result, started.elapsed())
}

/// cql2_text, artifacts/cql2_text/timeout-23b079f3... (and http_query's timeout-2bf3704e..., the
/// same filter sent as `filter=`): the cql2-text grammar backtracks at each `(`, so nesting far
/// below the depth limit made an 82-byte filter take more than 10 seconds, on the async worker
/// that parses filters up to 4 KB. The parser's work is now bounded: such filters are a syntax
/// error, answered at once.
#[test]
fn filters_that_make_the_cql2_text_parser_backtrack_are_refused_quickly() {
    let layer = layer();
    // The artifact, byte for byte.
    let found = format!(
        "nam{}e IN ('Cr0\0a','e m', ((((p8Pulat)on > 2)'Po')",
        "(".repeat(34)
    );
    // Worse still: each level `(population BETWEEN (` multiplies the work by about ten
    // (12 levels took more than a minute).
    let between = format!("{}1{}", "(population BETWEEN (".repeat(12), "))".repeat(12));
    for text in [&found, &between] {
        let (result, took) = compile(&layer, text, FilterLang::Cql2Text);
        match result {
            Err(e @ FilterError::Syntax { .. }) => {
                assert!(e.to_string().contains("too complex"), "{e}")
            }
            other => panic!("{text:?}: {other:?}"),
        }
        // A debug build parses some 50 times slower than a release build (about 3 s here for
        // the most the parser may do); before the bound these took hours in a debug build.
        assert!(took < Duration::from_secs(60), "{text:?} took {took:?}");
    }
}

/// The bound on the parser's work leaves room for long filters a client may really send.
#[test]
fn long_legitimate_filters_still_compile() {
    let layer = layer();
    let ring: Vec<String> = (0..=2000)
        .map(|i| {
            let a = i as f64 / 2000.0 * std::f64::consts::TAU;
            format!("{:.6} {:.6}", 10.0 + 0.01 * a.cos(), 45.1 + 0.01 * a.sin())
        })
        .collect();
    let mut ring = ring;
    ring[2000] = ring[0].clone();
    let polygon = format!(
        "S_INTERSECTS(geometry, POLYGON(({}))) AND population > 0",
        ring.join(", ")
    );
    let values: Vec<String> = (0..3000).map(|i| format!("'town {i}'")).collect();
    let list = format!("name IN ({}) OR name = 'Cremona'", values.join(", "));
    let nested = format!(
        "{}population > 1{}",
        "(NOT (NOT ".repeat(15),
        "))".repeat(15)
    );
    for text in [&polygon, &list, &nested] {
        let (result, _) = compile(&layer, text, FilterLang::Cql2Text);
        if let Err(e) = result {
            panic!("{}...: {e}", &text[..80.min(text.len())]);
        }
    }
}

/// cql2_json, artifacts/cql2_json/crash-57fb8357...: `{"op":"and","args":[x]}` was accepted,
/// though the CQL2 JSON schema requires two or more arguments for `and` and `or` (printed as
/// cql2-text it is just `x`, another expression). Refused now, as an empty `args` already was.
#[test]
fn cql2_json_and_or_with_one_argument_are_refused() {
    let layer = layer();
    let gt = r#"{"op":">","args":[{"property":"population"},30000]}"#;
    for op in ["and", "or"] {
        for args in [String::new(), gt.to_string()] {
            let text = format!(r#"{{"op":"{op}","args":[{args}]}}"#);
            let (result, _) = compile(&layer, &text, FilterLang::Cql2Json);
            match result {
                Err(e @ FilterError::Invalid { .. }) => {
                    assert!(e.to_string().contains("at least two"), "{e}")
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let two = format!(r#"{{"op":"{op}","args":[{gt},{gt}]}}"#);
        assert!(
            compile(&layer, &two, FilterLang::Cql2Json).0.is_ok(),
            "{two}"
        );
    }
}

/// http_query, a `SIGSEGV` of the fuzzer (2026-12-03; no artifact was written, the input was
/// read back from a core dump): `filter=` this. The 3,104 `-` after `p` are a chain of operators
/// that cql2-text's grammar accepts, and the cql2 crate builds and prints its expression
/// recursively, a level per operator; the stack of the thread ran out. On a server, whose
/// workers have 2 MiB stacks, one GET took the whole process down.
fn stack_overflow_artifact() -> String {
    let d = |n: usize| "-".repeat(n);
    format!(
        "p{}oie<cmeit{}'{}<={}\r{}+{}'<rs:CT0.0ter=poo9{}5.2{}lrcmtercme",
        d(3104),
        d(1),
        d(1),
        d(3),
        d(5),
        d(3),
        d(119),
        d(18)
    )
}

/// Runs `f` on a thread with a tokio worker's stack (2 MiB), as a server would.
fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .expect("the thread ended without a stack overflow or a panic")
}

/// Every shape of chain the cql2 crate recurses on, a thousand operators long and more, is
/// refused before it is parsed: prefix `-` and `NOT`, right-associative `=`, left-associative
/// `+` and `OR` (flattened only after being built), and the artifact itself.
#[test]
fn chains_of_operators_are_refused_before_the_parser_recurses_on_them() {
    let n = 2000;
    let texts = [
        stack_overflow_artifact(),
        format!("population > {}1", "- ".repeat(n)),
        format!("{}population > 1", "NOT ".repeat(n)),
        format!("population{} = 1", " = population".repeat(n)),
        format!("population{} = 1", " + population".repeat(n)),
        format!("population = 1{}", " OR population = 1".repeat(n)),
        format!("population{}", "-".repeat(n)),
    ];
    for text in texts {
        let head: String = text.chars().take(40).collect();
        let result = on_worker_stack(move || {
            let layer = layer();
            compile(&layer, &text, FilterLang::Cql2Text).0.map(|_| ())
        });
        match result {
            Err(e @ FilterError::TooManyOperators { max: 128 }) => {
                assert!(e.to_string().contains("too many operators"), "{e}")
            }
            other => panic!("{head:?}...: {other:?}"),
        }
    }
}

/// At the bounds ([`MAX_OPERATORS`], [`MAX_DEPTH`] parentheses) the parser runs on a worker's
/// stack: what is built deeper than `MAX_DEPTH` levels is refused as too deep, without being
/// walked recursively, and a chain that ends up shallow compiles. Each shape of chain is inside
/// the most parentheses allowed, which the parser also recurses on.
#[test]
fn the_deepest_filters_accepted_for_parsing_parse_on_a_worker_stack() {
    assert_eq!((MAX_OPERATORS, MAX_DEPTH), (128, 64));
    let n = MAX_OPERATORS;
    let within = |inner: String| format!("{}{inner}{}", "(".repeat(64), ")".repeat(64));
    let cases = [
        // n - 1 NOT and one >: n levels.
        (
            within(format!("{}population > 1", "NOT ".repeat(n - 1))),
            false,
        ),
        // 64 NOT, each before a parenthesis, and n - 65 more inside.
        (
            format!(
                "{}{}population > 1{}",
                "NOT (".repeat(64),
                "NOT ".repeat(n - 65),
                ")".repeat(64)
            ),
            false,
        ),
        // n right-associative comparisons: the deepest recursion in the parser per operator.
        (
            within(format!("population{}", " = population".repeat(n))),
            false,
        ),
        // n - 1 left-associative additions, then >.
        (
            within(format!("population{} > 1", " + population".repeat(n - 1))),
            false,
        ),
        // n - 1 prefix minus before a property, then >.
        (
            within(format!("{}population > 1", "- ".repeat(n - 1))),
            false,
        ),
        // n / 2 comparisons joined by n / 2 - 1 OR: flattened by the parser into one OR.
        (
            within(format!(
                "population = 1{}",
                " OR population = 1".repeat(n / 2 - 1)
            )),
            true,
        ),
        // n - 1 prefix minus before a number fold into the number: `population > 1`.
        (
            within(format!("population > {}1", "- ".repeat(n - 1))),
            true,
        ),
    ];
    for (text, compiles) in cases {
        let head: String = text.chars().take(80).collect();
        let result = on_worker_stack(move || {
            let layer = layer();
            compile(&layer, &text, FilterLang::Cql2Text).0.map(|_| ())
        });
        match (compiles, result) {
            (true, Ok(())) => {}
            (false, Err(FilterError::TooDeep { max: 64 })) => {}
            (_, other) => panic!("{head:?}...: {other:?}"),
        }
    }
}

/// cql2-json: nesting is bounded by the JSON reader (128 levels) before an expression is built,
/// so two thousand nested `NOT` or `+` are a syntax error, on a worker's stack.
#[test]
fn deeply_nested_cql2_json_is_refused_on_a_worker_stack() {
    let n = 2000;
    let not = format!(
        "{}{{\"op\":\">\",\"args\":[{{\"property\":\"population\"}},1]}}{}",
        "{\"op\":\"not\",\"args\":[".repeat(n),
        "]}".repeat(n)
    );
    let plus = format!(
        "{{\"op\":\">\",\"args\":[{}{{\"property\":\"population\"}}{},1]}}",
        "{\"op\":\"+\",\"args\":[1,".repeat(n),
        "]}".repeat(n)
    );
    for text in [not, plus] {
        let result = on_worker_stack(move || {
            let layer = layer();
            compile(&layer, &text, FilterLang::Cql2Json).0.map(|_| ())
        });
        match result {
            Err(e @ FilterError::Syntax { .. }) => {
                assert!(e.to_string().contains("recursion limit"), "{e}")
            }
            other => panic!("{other:?}"),
        }
    }
}
