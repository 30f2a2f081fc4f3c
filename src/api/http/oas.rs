//! The pieces of the OpenAPI document every resource shares: operation objects with the
//! responses this layer can give to any request (problem documents, `304`, `503`), and the
//! component schemas of problem documents, links and GeoJSON. Parameters are in
//! [`super::param`].
//!
//! Which statuses an operation can answer follows from what its handler reads:
//! - every operation: `400` (a parameter the strict reader refuses), `500` (a bug, logged) and
//!   `503` (the per-request time limit, the server shutting down, more work waiting than it
//!   queues, or, where the store of edits is read or written, that store out of reach; the
//!   last two with `Retry-After`, which the document declares, optional, on every `503`; a
//!   `429` always carries it);
//! - a GET: `304` (`If-None-Match` matched its `ETag`);
//! - a negotiated resource: `406` (nothing matches `Accept`);
//! - a path parameter or a parameter naming a catalogue thing: `404`;
//! - a request body: `413` (too large) and `415` (not JSON);
//! - a geometry from the client, or one the answer is computed from: `422`.

use serde_json::{json, Map, Value as Json};

use super::error::PROBLEM_JSON;
use super::negotiate::{Repr, GEOJSON};

/// `#/components/schemas/NAME`.
pub fn schema_ref(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The response object of an error status: a problem document, answered because of `why`.
pub fn problem(why: &str) -> Json {
    json!({"description": why,
        "content": {PROBLEM_JSON: {"schema": schema_ref("Problem")}}})
}

/// The statuses an operation answers besides its success, each with why.
#[derive(Debug, Clone, Default)]
pub struct Errors {
    list: Vec<(u16, String)>,
}

impl Errors {
    /// The errors any GET can answer: `400`, `500`, `503`, and `406` when it is negotiated
    /// (its `304` is added by [`responses`]).
    pub fn get(negotiated: bool) -> Errors {
        let mut e = Errors::default()
            .with(
                400,
                "a malformed, unknown or repeated parameter, or parameters that do not go \
                 together: the detail names them",
            )
            .with(
                500,
                "an internal error (the detail is in the server log, not here)",
            )
            .with(
                503,
                "the request took longer than the server's time limit, the server is \
                 shutting down or has more work waiting than it queues, or an answer read \
                 from the store of edits (a history, a state in the past: at) cannot be read \
                 now, its database or file out of reach (Retry-After, when given, says when \
                 to try again)",
            );
        if negotiated {
            e = e.with(
                406,
                "no representation of this resource matches the Accept header",
            );
        }
        e
    }

    /// What every POST with a JSON body can answer: `400`, `413`, `415`, `500`, `503`.
    pub fn post() -> Errors {
        Errors::get(false)
            .with(413, "a request body larger than the server accepts")
            .with(
                415,
                "a request body that is not application/geo+json or application/json",
            )
    }

    /// Adds (or replaces) a status.
    pub fn with(mut self, status: u16, why: &str) -> Errors {
        self.list.retain(|(s, _)| *s != status);
        self.list.push((status, why.to_string()));
        self
    }

    /// Removes a status (a resource that reads no query parameter cannot answer 400).
    pub fn without(mut self, status: u16) -> Errors {
        self.list.retain(|(s, _)| *s != status);
        self
    }
}

/// One representation of a successful answer: its media type and schema.
pub fn media(repr: Repr, schema: Json) -> (&'static str, Json) {
    (repr.media_type(), schema)
}

/// An HTML page.
pub fn html() -> (&'static str, Json) {
    media(Repr::Html, json!({"type": "string"}))
}

/// The `200` answer of a GET: `content` (media type, schema) with the headers of conditional
/// GET, and `Content-Crs` when one representation is GeoJSON.
pub fn ok(description: &str, content: Vec<(&str, Json)>) -> Json {
    let mut headers = Map::new();
    headers.insert(
        "ETag".into(),
        json!({"description": "a weak tag of the answer, for If-None-Match", "required": true,
               "schema": {"type": "string"}}),
    );
    headers.insert(
        "Cache-Control".into(),
        json!({"description": "how long caches may keep the answer (the server's --cache-control)",
               "required": true, "schema": {"type": "string"}}),
    );
    ok_with(description, content, headers)
}

/// The `200` answer of a POST: no conditional GET headers.
pub fn ok_post(description: &str, content: Vec<(&str, Json)>) -> Json {
    ok_with(description, content, Map::new())
}

fn ok_with(description: &str, content: Vec<(&str, Json)>, mut headers: Map<String, Json>) -> Json {
    let mut c = Map::new();
    let mut geojson = false;
    for (m, schema) in content {
        geojson |= m == GEOJSON;
        c.insert(m.to_string(), json!({ "schema": schema }));
    }
    if geojson {
        headers.insert(
            "Content-Crs".into(),
            json!({"description": "the CRS of the coordinates of a GeoJSON answer, as <URI> (OGC API - Features Part 2)",
                   "schema": {"type": "string", "pattern": "^<.+>$"}}),
        );
    }
    let mut r = json!({"description": description, "content": c});
    if !headers.is_empty() {
        r["headers"] = Json::Object(headers);
    }
    r
}

/// The responses of an operation: `ok` (its `200`) and `errors`.
pub fn responses(ok: Json, errors: &Errors, conditional: bool) -> Json {
    let mut r = Map::new();
    r.insert("200".into(), ok);
    if conditional {
        r.insert(
            "304".into(),
            json!({"description": "not modified: If-None-Match named the answer's ETag"}),
        );
    }
    for (status, why) in &errors.list {
        let mut answer = problem(why);
        match status {
            429 => answer["headers"] = retry_after(true, "the seconds after which to try again"),
            503 => {
                answer["headers"] = retry_after(
                    false,
                    "when the server has more work waiting than it queues, or its store of \
                     edits cannot be reached now: the seconds after which to try again",
                )
            }
            _ => {}
        }
        r.insert(status.to_string(), answer);
    }
    Json::Object(r)
}

/// The `headers` of an answer carrying `Retry-After` (as delay-seconds, RFC 9110), `required`
/// when every such answer carries it.
fn retry_after(required: bool, description: &str) -> Json {
    json!({"Retry-After": {"description": description, "required": required,
        "schema": {"type": "integer", "minimum": 0}}})
}

/// A GET operation.
pub struct Get<'a> {
    pub id: &'a str,
    pub summary: &'a str,
    pub description: Option<&'a str>,
    pub tags: &'a [&'a str],
    pub parameters: Vec<Json>,
    pub ok: Json,
    pub errors: Errors,
}

impl Get<'_> {
    pub fn openapi(self) -> Json {
        let mut op = json!({
            "operationId": self.id,
            "summary": self.summary,
            "parameters": self.parameters,
            "responses": responses(self.ok, &self.errors, true),
        });
        if let Some(d) = self.description {
            op["description"] = json!(d);
        }
        if !self.tags.is_empty() {
            op["tags"] = json!(self.tags);
        }
        op
    }
}

/// The schemas under `components.schemas` that this layer's answers use.
pub fn component_schemas() -> Map<String, Json> {
    let mut s = Map::new();
    s.insert(
        "Problem".into(),
        json!({
            "type": "object",
            "description": "A problem document (RFC 9457).",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
            },
        }),
    );
    s.insert(
        "Link".into(),
        json!({
            "type": "object",
            "required": ["href", "rel"],
            "properties": {
                "href": {"type": "string"},
                "rel": {"type": "string"},
                "type": {"type": "string"},
                "title": {"type": "string"},
            },
        }),
    );
    s.insert(
        "Links".into(),
        json!({"type": "array", "items": schema_ref("Link")}),
    );
    s.insert("Geometry".into(), geometry_schema());
    s.insert("Feature".into(), feature_schema(json!({"type": "object"})));
    s.insert(
        "FeatureCollection".into(),
        feature_collection_schema(schema_ref("Feature"), &[]),
    );
    s
}

/// A GeoJSON geometry (RFC 7946): one of the seven types, its coordinates nested as the type
/// says; a position is two numbers or more (heights are read and left out). A
/// GeometryCollection holds the six other types (RFC 7946 asks to avoid nesting them; the
/// server refuses it), so the schema does not refer to itself.
fn geometry_schema() -> Json {
    let position = json!({"type": "array", "minItems": 2, "items": {"type": "number"}});
    let positions = json!({"type": "array", "items": position});
    let rings = json!({"type": "array", "items": positions});
    let polygons = json!({"type": "array", "items": rings});
    let typed = |name: &str, member: &str, value: Json| {
        json!({"type": "object", "required": ["type", member],
               "properties": {"type": {"type": "string", "enum": [name]}, member: value}})
    };
    let simple = vec![
        typed("Point", "coordinates", position),
        typed("MultiPoint", "coordinates", positions.clone()),
        typed("LineString", "coordinates", positions),
        typed("MultiLineString", "coordinates", rings.clone()),
        typed("Polygon", "coordinates", rings),
        typed("MultiPolygon", "coordinates", polygons),
    ];
    let mut all = simple.clone();
    all.push(typed(
        "GeometryCollection",
        "geometries",
        json!({"type": "array", "items": {"oneOf": simple}}),
    ));
    json!({
        "description": "A GeoJSON geometry (RFC 7946), in the CRS of Content-Crs (or subject-crs) and its axis order.",
        "oneOf": all,
    })
}

/// A GeoJSON Feature whose `properties` follow `properties` (its geometry may be `null`:
/// `skipGeometry`, or a feature without coordinates).
pub fn feature_schema(properties: Json) -> Json {
    json!({
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "geometry": {"nullable": true, "allOf": [schema_ref("Geometry")]},
            "properties": properties,
            "links": schema_ref("Links"),
        },
    })
}

/// A GeoJSON FeatureCollection of `feature`s, with `numberReturned`, `links` and the foreign
/// members `required` (besides `type` and `features`).
pub fn feature_collection_schema(feature: Json, required: &[&str]) -> Json {
    let mut req = vec!["type", "features"];
    req.extend(required);
    json!({
        "type": "object",
        "required": req,
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"},
            "links": schema_ref("Links"),
        },
    })
}

/// The request body of an analysis or report POST: the subject, a GeoJSON Geometry or
/// Feature (or a FeatureCollection of one feature).
pub fn subject_body() -> Json {
    let schema = json!({
        "oneOf": [
            schema_ref("Geometry"),
            feature_schema(json!({"type": "object", "nullable": true})),
            {
                "type": "object",
                "required": ["type", "features"],
                "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "minItems": 1, "maxItems": 1,
                        "items": feature_schema(json!({"type": "object", "nullable": true}))},
                },
            },
        ],
    });
    json!({
        "required": true,
        "description": "The subject as a GeoJSON Geometry or Feature (or a FeatureCollection of one feature), in CRS84 unless subject-crs names another CRS, in that CRS's axis order. The other parameters stay in the query string; no subject parameter may be given.",
        "content": {
            GEOJSON: {"schema": schema.clone()},
            "application/json": {"schema": schema},
        },
    })
}
