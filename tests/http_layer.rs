//! The behaviour every resource shares through the HTTP layer (`api::http`), checked on each
//! resource: one strict parameter reader (unknown and repeated parameters are a 400 naming
//! them), one date parser (the `datetime` parameter refuses what the CQL2 filter refuses), one
//! content negotiation (every media type a resource is served as may be asked for by name, by
//! wildcard and with quality values), and `OPTIONS` answering the methods each route takes.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};

mod common;

use common::http::{assert_problem, demo_catalog, send, Answer};
use territorio::api::{app, AppState, ServerConfig};

async fn request(req: Request<Body>) -> Answer {
    send(
        app(AppState::new(demo_catalog(), ServerConfig::default())),
        req,
    )
    .await
}

async fn get(uri: &str) -> Answer {
    request(Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn get_accepting(uri: &str, accept: &str) -> Answer {
    request(
        Request::get(uri)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn options(uri: &str) -> Answer {
    request(Request::options(uri).body(Body::empty()).unwrap()).await
}

/// Every GET resource of the service, with one parameter it takes (or `f`).
const RESOURCES: [(&str, &str); 14] = [
    ("/", "f=json"),
    ("/conformance", "f=json"),
    ("/api", "f=json"),
    ("/collections", "f=json"),
    ("/collections/projects", "f=json"),
    ("/collections/projects/queryables", "f=json"),
    ("/collections/projects/schema", "f=json"),
    ("/collections/projects/items", "limit=5"),
    ("/collections/projects/items/P012", "skipGeometry=true"),
    ("/analysis/nearest", "layer=parks"),
    ("/projects/P012/report", "agrifood_radius=1000"),
    ("/indicators", "f=csv"),
    ("/indicators/definitions", "f=json"),
    ("/styles", "f=json"),
];

#[tokio::test]
async fn a_repeated_parameter_is_a_400_on_every_resource() {
    for (path, param) in RESOURCES {
        let a = get(&format!("{path}?{param}&{param}")).await;
        let name = param.split('=').next().unwrap();
        assert_problem(
            &a,
            StatusCode::BAD_REQUEST,
            &format!("parameter {name} is given more than once"),
        );
        // Given once, the same parameter is accepted (the analysis still lacks its subject,
        // which is a different 400).
        let once = get(&format!("{path}?{param}")).await;
        if path == "/analysis/nearest" {
            assert_problem(&once, StatusCode::BAD_REQUEST, "no subject");
        } else {
            assert_eq!(
                once.status,
                StatusCode::OK,
                "{path}?{param}: {}",
                once.text()
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_parameter_is_a_400_naming_it_on_every_resource() {
    for (path, _) in RESOURCES {
        let a = get(&format!("{path}?colour=red")).await;
        assert_problem(&a, StatusCode::BAD_REQUEST, "unknown parameter \"colour\"");
    }
}

#[tokio::test]
async fn impossible_dates_are_refused_as_in_cql2_filters() {
    // 2026 is not a leap year; April has 30 days.
    for (bad, date) in [
        ("2026-02-31", "2026-02-31"),
        ("2026-02-29", "2026-02-29"),
        ("2026-04-31", "2026-04-31"),
        ("2026-01-01/2026-02-30", "2026-02-30"),
        ("2026-02-30T10:00:00Z", "2026-02-30"),
    ] {
        let a = get(&format!("/collections/projects/items?datetime={bad}")).await;
        assert_problem(&a, StatusCode::BAD_REQUEST, date);
        // The CQL2 filter refuses the same date.
        let f = get(&format!(
            "/collections/projects/items?filter=start_date%3DDATE('{date}')"
        ))
        .await;
        assert_problem(&f, StatusCode::BAD_REQUEST, "filter");
    }
    // The last day of February 2028 (a leap year) is a date.
    let a = get("/collections/projects/items?datetime=2028-02-29").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test]
async fn a_resource_answers_every_media_type_it_is_served_as() {
    for path in [
        "/collections/productive_areas/queryables",
        "/collections/productive_areas/schema",
    ] {
        for accept in [
            "application/schema+json",
            "application/json",
            "application/*",
            "*/*",
            "text/html;q=0.5, application/schema+json",
        ] {
            let a = get_accepting(path, accept).await;
            assert_eq!(
                a.status,
                StatusCode::OK,
                "{path} Accept {accept}: {}",
                a.text()
            );
            assert_eq!(a.content_type(), "application/schema+json", "{accept}");
            assert_eq!(a.json()["type"], "object");
        }
        let html = get_accepting(path, "application/schema+json;q=0.1, text/html").await;
        assert!(html.content_type().starts_with("text/html"), "{path}");
        let none = get_accepting(path, "image/png").await;
        assert_problem(&none, StatusCode::NOT_ACCEPTABLE, "application/schema+json");
    }
    // The OpenAPI document by its own media type, with its version parameter.
    let a = get_accepting("/api", "application/vnd.oai.openapi+json;version=3.0").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.content_type(),
        "application/vnd.oai.openapi+json;version=3.0"
    );
    assert_eq!(a.json()["openapi"], "3.0.3");
    // Features by both JSON names.
    for accept in ["application/geo+json", "application/json"] {
        let a = get_accepting("/collections/projects/items?limit=1", accept).await;
        assert_eq!(a.content_type(), "application/geo+json", "{accept}");
    }
    // CSV of the indicators by name; the report as GeoJSON by name.
    let a = get_accepting("/indicators", "text/csv").await;
    assert!(a.content_type().starts_with("text/csv"));
    let a = get_accepting("/projects/P012/report", "application/geo+json").await;
    assert_eq!(a.content_type(), "application/geo+json");
    assert_eq!(a.json()["type"], "FeatureCollection");
}

/// The methods of an `Allow` header, in order.
fn allow(a: &Answer) -> Vec<String> {
    a.header(header::ALLOW)
        .split(',')
        .map(|m| m.trim().to_string())
        .collect()
}

#[tokio::test]
async fn options_lists_the_methods_each_route_takes() {
    for path in [
        "/analysis/nearest",
        "/analysis/within",
        "/analysis/overlay",
        "/analysis/locate",
        "/analysis/report",
    ] {
        let a = options(path).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{path}");
        assert_eq!(allow(&a), ["GET", "HEAD", "POST", "OPTIONS"], "{path}");
    }
    for path in [
        "/",
        "/collections/projects/items",
        "/collections/projects/items/P012",
        "/indicators",
        "/projects/P012/report",
    ] {
        let a = options(path).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{path}");
        assert_eq!(allow(&a), ["GET", "HEAD", "OPTIONS"], "{path}");
    }
    // No route, no methods.
    let a = options("/no/such/thing").await;
    assert_problem(&a, StatusCode::NOT_FOUND, "/no/such/thing");
}

#[tokio::test]
async fn an_empty_value_is_the_parameter_left_out_but_an_equality_filter_is_a_value() {
    let ids = |a: &Answer| -> Vec<String> {
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        a.json()["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].to_string())
            .collect()
    };
    // Every optional parameter of the items, empty: the same page as none at all.
    let plain = get("/collections/projects/items").await;
    let empty = get(
        "/collections/projects/items?f=&limit=&offset=&bbox=&datetime=&properties=&sortby=\
         &skipGeometry=&crs=&filter=",
    )
    .await;
    assert_eq!(ids(&plain), ids(&empty));
    assert_eq!(plain.json()["numberMatched"], empty.json()["numberMatched"]);
    assert_eq!(
        plain.json()["features"][0]["properties"],
        empty.json()["features"][0]["properties"]
    );
    // An empty value is not a second one.
    let a = get("/collections/projects/items?limit=&limit=3").await;
    assert_eq!(ids(&a).len(), 3);
    // Parameters that go with another still need it given a value.
    let a = get("/collections/projects/items?bbox=&bbox-crs=EPSG:4326").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "bbox-crs");
    let a = get("/collections/projects/items?filter=&filter-lang=cql2-json").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "filter-lang");
    // An equality filter on a text property: the empty value selects the features whose value
    // is the empty text (QGIS sends `title=` for "title" = ''), none in the demo projects.
    let catalog = demo_catalog();
    let projects = catalog.layer("projects").unwrap();
    let title = projects.field_index("title").unwrap();
    let empty_titles = projects
        .features
        .iter()
        .filter(|f| f.values[title] == territorio::feature::Value::String("".into()))
        .count();
    let a = get("/collections/projects/items?title=").await;
    assert_eq!(ids(&a).len(), empty_titles);
    assert_eq!(a.json()["numberMatched"], empty_titles);
    assert!(projects.features.len() > 100);
    // On a number or a date, an empty value is no value: a 400 naming the property.
    for p in ["progress_pct", "budget_eur", "start_date"] {
        let a = get(&format!("/collections/projects/items?{p}=")).await;
        assert_problem(&a, StatusCode::BAD_REQUEST, &format!("parameter {p}"));
    }
    // A date that is not one is refused like in datetime.
    let a = get("/collections/projects/items?start_date=2026-02-30").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "start_date");
    // The analyses: an empty subject parameter is no subject; an empty layers is every layer.
    let every = get("/analysis/locate?point=9.7,45.3").await;
    let a = get("/analysis/locate?point=9.7,45.3&layers=&project=&bbox=").await;
    assert_eq!(ids(&every), ids(&a));
    // A list's empty names are left out; a list naming none is an empty value.
    let a = get("/analysis/locate?point=9.7,45.3&layers=,").await;
    assert_eq!(ids(&every), ids(&a));
    let parks = get("/analysis/locate?point=9.7,45.3&layers=parks").await;
    let a = get("/analysis/locate?point=9.7,45.3&layers=,parks,").await;
    assert_eq!(ids(&parks), ids(&a));
    assert!(ids(&parks).len() < ids(&every).len());
    let a = get("/collections/projects/items?properties=title,,&sortby=,-id").await;
    let f = &a.json()["features"][0];
    assert_eq!(f["properties"].as_object().unwrap().len(), 1, "{f}");
    let last = projects
        .features
        .iter()
        .map(|f| f.id.to_string())
        .max()
        .unwrap();
    assert_eq!(f["id"].as_str().map(str::to_string), Some(last));
    let a = get("/analysis/nearest?layer=parks&point=9.7,45.3&k=").await;
    // k empty: the default, 5 (or every feature of a smaller layer).
    assert_eq!(
        ids(&a).len(),
        5.min(catalog.layer("parks").unwrap().features.len())
    );
    let a = get("/analysis/overlay?layer=parks&geometry=").await;
    assert_problem(&a, StatusCode::BAD_REQUEST, "parameter geometry is empty");
    // A required parameter needs a value.
    let a = get("/analysis/within?layer=parks&point=9.7,45.3&distance=").await;
    assert_problem(
        &a,
        StatusCode::BAD_REQUEST,
        "parameter distance is required",
    );
    // The report: an empty crs is no crs, so the JSON report is answered.
    let a = get("/projects/P012/report?crs=&f=").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.content_type(), "application/json");
}

/// A GeoJSON or HTML answer without what changes from one request to the next (`timeStamp`).
fn without_timestamp(a: &Answer) -> String {
    if a.content_type() == "application/geo+json" {
        let mut v = a.json();
        v.as_object_mut().unwrap().remove("timeStamp");
        v.to_string()
    } else {
        a.text()
    }
}

#[tokio::test]
async fn a_layers_items_answer_the_same_through_its_own_path_and_the_generic_route() {
    // Each layer of the catalogue has `/collections/{id}/items` as a path of its own; the id
    // spelled with an escape (`%6F` is `o`) takes the generic route. Both must answer alike,
    // on every method.
    for query in [
        "limit=3",
        "limit=2&offset=1&skipGeometry=true",
        "bbox=9.9,45.0,10.1,45.2&limit=4",
        "filter=S_INTERSECTS(geometry,BBOX(9.9,45.0,10.1,45.2))&limit=5",
        "filter=S_INTERSECTS(geometry,POINT(10.02%2045.13))",
        "f=html&limit=2",
        "limit=0",
        "no-such-parameter=1",
    ] {
        let own = get(&format!("/collections/projects/items?{query}")).await;
        let generic = get(&format!("/collections/pr%6Fjects/items?{query}")).await;
        assert_eq!(own.status, generic.status, "{query}");
        // The same headers in the same order, the same values but the tag's.
        let names = |a: &Answer| a.headers.keys().map(|k| k.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&own), names(&generic), "{query}");
        for h in [
            header::CONTENT_TYPE,
            header::VARY,
            header::CACHE_CONTROL,
            header::CONTENT_LENGTH,
        ] {
            assert_eq!(own.header(&h), generic.header(&h), "{query}: {h}");
        }
        assert_eq!(own.header("content-crs"), generic.header("content-crs"));
        // A tag on every answer that is not an error (it hashes the path as sent).
        assert_eq!(
            own.header(header::ETAG).is_empty(),
            own.status != StatusCode::OK,
            "{query}"
        );
        assert_eq!(
            without_timestamp(&own),
            without_timestamp(&generic),
            "{query}"
        );
    }
    let own = get("/collections/projects/items?limit=1").await;
    assert_eq!(own.json()["numberReturned"], 1);
    // HEAD: the headers of GET, no body.
    let head = request(
        Request::head("/collections/projects/items?limit=1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.content_type(), "application/geo+json");
    assert!(head.body.is_empty());
    // The length of the body GET sends (the timestamp has a fixed width).
    assert_eq!(
        head.header(header::CONTENT_LENGTH),
        own.body.len().to_string()
    );
    // Other methods reach the routes of the generic path: the same refusal (writes are off)
    // with the same methods in `Allow`, and the same `OPTIONS`.
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let on = |path: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .header(header::CONTENT_TYPE, "application/geo+json")
                .body(Body::from("{}"))
                .unwrap()
        };
        let own = request(on("/collections/projects/items")).await;
        let generic = request(on("/collections/pr%6Fjects/items")).await;
        assert_eq!(own.status, generic.status, "{method}");
        if method == "OPTIONS" {
            assert_eq!(own.status, StatusCode::NO_CONTENT);
        } else {
            assert!(own.status.is_client_error(), "{method}: {}", own.status);
        }
        assert_eq!(allow(&own), allow(&generic), "{method}");
        assert_eq!(own.content_type(), generic.content_type(), "{method}");
        // (A problem document may name the path as sent.)
        assert_eq!(
            own.text(),
            generic.text().replace("pr%6Fjects", "projects"),
            "{method}"
        );
    }
    // A layer that is not in the catalogue: 404 naming it, by either way.
    let a = get("/collections/nothing/items").await;
    assert_problem(&a, StatusCode::NOT_FOUND, "nothing");
}
