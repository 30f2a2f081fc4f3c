//! HTML pages for people who open the API in a browser: plain, self-contained pages (no
//! scripts, no external resources) with an SVG sketch of the features shown. Their one
//! `<style>` element is the constant [`STYLE`], allowed by its hash in the
//! `Content-Security-Policy` ([`style_hash_source`]); nothing else on them is styled inline.

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, Coord, Geometry, LineString, Rect};
use serde_json::Value as Json;

use super::request::Ctx;
use super::respond::{urlencode_segment, REL_MAP};
use crate::feature::{rect_union, Feature};
use crate::store::{Catalog, Layer};

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The style sheet of every page, in a `<style>` element (the only inline style they carry).
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:70rem;\
padding:0 1rem;color:#222}a{color:#0b5394}table{border-collapse:collapse;font-size:.9rem}\
td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}nav{font-size:.9rem;margin-bottom:1rem}svg{border:1px solid #ccc;\
background:#fafaf7}code{background:#f3f3f3;padding:0 .2rem}";

/// The `Content-Security-Policy` source that allows [`STYLE`] and nothing else inline:
/// `'sha256-<base64 of the SHA-256 of its text>'`.
pub fn style_hash_source() -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(STYLE.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// A complete page.
pub fn page(ctx: &Ctx, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} - territorio</title><style>{STYLE}</style></head><body>\
         <nav><a href=\"{base}/?f=html\">territorio</a> · \
         <a href=\"{base}/collections?f=html\">collections</a> · \
         <a href=\"{base}/api.html\">API</a> · \
         <a href=\"{base}/conformance?f=html\">conformance</a></nav>\
         <h1>{t}</h1>{body}</body></html>",
        t = esc(title),
        base = esc(&ctx.base),
    );
    let mut response = html.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn links_list(links: &Json) -> String {
    let mut s = String::from("<ul>");
    for l in links.as_array().into_iter().flatten() {
        let href = l["href"].as_str().unwrap_or("");
        s.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>({}, {})</small></li>",
            esc(href),
            esc(l["title"].as_str().unwrap_or(href)),
            esc(l["rel"].as_str().unwrap_or("")),
            esc(l["type"].as_str().unwrap_or(""))
        ));
    }
    s.push_str("</ul>");
    s
}

pub fn landing_page(ctx: &Ctx, catalog: &Catalog, body: &Json) -> Response {
    let map = body["links"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["rel"] == REL_MAP)
        .and_then(|l| l["href"].as_str())
        .map(|href| {
            format!(
                "<p><strong><a href=\"{}\">Open the web map</a></strong></p>",
                esc(href)
            )
        })
        .unwrap_or_default();
    let mut s = format!(
        "<p>{}</p>{map}<h2>Links</h2>{}",
        esc(body["description"].as_str().unwrap_or("")),
        links_list(&body["links"])
    );
    s.push_str(&collections_table(ctx, catalog));
    page(ctx, "territorio", &s)
}

fn collections_table(ctx: &Ctx, catalog: &Catalog) -> String {
    let mut s = String::from(
        "<h2>Collections</h2><table><tr><th>Collection</th><th>System</th><th>Features</th>\
         <th>Description</th></tr>",
    );
    for l in catalog.layers() {
        s.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a><br><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&ctx.url(&format!("/collections/{}?f=html", l.id()))),
            esc(&l.config.title),
            esc(l.id()),
            esc(l.config.system.name()),
            l.count(),
            esc(&l.config.description)
        ));
    }
    s.push_str("</table>");
    s
}

pub fn collections_page(ctx: &Ctx, catalog: &Catalog) -> Response {
    page(ctx, "Collections", &collections_table(ctx, catalog))
}

pub fn list_page(ctx: &Ctx, title: &str, items: &[&str]) -> Response {
    let mut s = String::from("<ul>");
    for i in items {
        s.push_str(&format!("<li><code>{}</code></li>", esc(i)));
    }
    s.push_str("</ul>");
    page(ctx, title, &s)
}

pub fn collection_page(ctx: &Ctx, layer: &Layer, body: &Json) -> Response {
    let mut s = format!(
        "<p>{}</p><table><tr><th>Id</th><td><code>{}</code></td></tr>\
         <tr><th>PTCP system</th><td>{}</td></tr><tr><th>Features</th><td>{}</td></tr>\
         <tr><th>Geometry</th><td>{}</td></tr><tr><th>Extent (CRS84)</th><td>{}</td></tr>\
         <tr><th>Time</th><td>{}</td></tr><tr><th>Storage CRS</th><td>{}</td></tr></table>",
        esc(&layer.config.description),
        esc(layer.id()),
        esc(layer.config.system.name()),
        layer.count(),
        esc(&layer.geometry_types().collect::<Vec<_>>().join(", ")),
        esc(&body["extent"]["spatial"]["bbox"].to_string()),
        esc(&body["extent"]["temporal"]["interval"].to_string()),
        esc(body["storageCrs"].as_str().unwrap_or("")),
    );
    s.push_str("<h2>Properties</h2><table><tr><th>Name</th><th>Type</th></tr>");
    for f in &layer.fields {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&f.name),
            f.ty.name()
        ));
    }
    s.push_str("</table><h2>Links</h2>");
    s.push_str(&links_list(&body["links"]));
    page(ctx, &layer.config.title, &s)
}

pub fn schema_page(ctx: &Ctx, layer: &Layer, body: &Json) -> Response {
    let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
    page(
        ctx,
        &format!("{} - schema", layer.config.title),
        &format!("<pre>{}</pre>", esc(&pretty)),
    )
}

pub fn api_page(ctx: &Ctx, doc: &Json) -> Response {
    let mut s = format!(
        "<p>{} The machine-readable definition is at <a href=\"{u}\">{u}</a>.</p>",
        esc(doc["info"]["description"].as_str().unwrap_or("")),
        u = esc(&ctx.url("/api?f=json"))
    );
    // `#/components/parameters/NAME` and `#/components/schemas/NAME`, followed.
    let follow = |v: &Json| -> Json {
        match v.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => {
                let mut target = doc;
                for part in r.trim_start_matches("#/").split('/') {
                    target = &target[part];
                }
                target.clone()
            }
            None => v.clone(),
        }
    };
    for (path, ops) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in ops.as_object().into_iter().flatten() {
            s.push_str(&format!(
                "<h3><code>{} {}</code></h3><p>{}</p>",
                esc(&method.to_uppercase()),
                esc(path),
                esc(op["summary"].as_str().unwrap_or(""))
            ));
            if let Some(d) = op["description"].as_str() {
                s.push_str(&format!("<p><small>{}</small></p>", esc(d)));
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if !params.is_empty() {
                s.push_str(
                    "<table><tr><th>Parameter</th><th>In</th><th>Values</th>\
                     <th>Description</th></tr>",
                );
                for p in params {
                    let p = follow(&p);
                    let name = p["name"].as_str().unwrap_or("");
                    let required = if p["required"] == true {
                        " (required)"
                    } else {
                        ""
                    };
                    s.push_str(&format!(
                        "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(name),
                        esc(p["in"].as_str().unwrap_or("")),
                        esc(&values(&follow(&p["schema"]), &follow)),
                        esc(p["description"].as_str().unwrap_or(""))
                    ));
                }
                s.push_str("</table>");
            }
            let statuses: Vec<&str> = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, _)| status.as_str())
                .collect();
            s.push_str(&format!(
                "<p><small>Answers {}.</small></p>",
                esc(&statuses.join(", "))
            ));
        }
    }
    page(ctx, "territorio API", &s)
}

/// What values a parameter schema allows, in a few words.
fn values(schema: &Json, follow: &dyn Fn(&Json) -> Json) -> String {
    if let Some(list) = schema["enum"].as_array() {
        let words: Vec<String> = list
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or(v.to_string()))
            .collect();
        return format!("one of {}", words.join(", "));
    }
    let ty = schema["type"].as_str().unwrap_or("");
    let bound = |k: &str| {
        schema
            .get(k)
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
    };
    match ty {
        "array" => format!(
            "comma-separated {}",
            values(&follow(&schema["items"]), follow)
        ),
        "integer" if schema["format"] == "int64" => "a 64-bit integer".to_string(),
        "integer" | "number" => {
            let mut t = ty.to_string();
            match (bound("minimum"), bound("maximum")) {
                (Some(a), Some(b)) => t.push_str(&format!(" from {a} to {b}")),
                (Some(a), None) => t.push_str(&format!(" from {a}")),
                _ => {}
            }
            if let Some(d) = bound("default") {
                t.push_str(&format!(", default {d}"));
            }
            t
        }
        other => other.to_string(),
    }
}

/// An SVG sketch of CRS84 geometries (equirectangular, scaled by the cosine of the latitude).
pub fn svg_map(geometries: &[Geometry<f64>], width: f64, height: f64) -> String {
    let mut bounds: Option<Rect<f64>> = None;
    for g in geometries {
        if let Some(r) = g.bounding_rect() {
            bounds = Some(match bounds {
                None => r,
                Some(b) => rect_union(b, r),
            });
        }
    }
    let Some(b) = bounds else {
        return String::new();
    };
    let k = ((b.min().y + b.max().y) / 2.0).to_radians().cos().max(0.01);
    let (w, h) = (((b.width() * k).max(1e-9)), b.height().max(1e-9));
    let scale = (width / w).min(height / h) * 0.9;
    let (ox, oy) = ((width - w * scale) / 2.0, (height - h * scale) / 2.0);
    let px = |c: &Coord<f64>| {
        (
            ox + (c.x - b.min().x) * k * scale,
            height - oy - (c.y - b.min().y) * scale,
        )
    };
    let path = |ls: &LineString<f64>, close: bool| {
        let mut d = String::new();
        for (i, c) in ls.0.iter().enumerate() {
            let (x, y) = px(c);
            d.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" }));
        }
        if close {
            d.push('Z');
        }
        d
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">"
    );
    let mut draw = |g: &Geometry<f64>| {
        let mut stack = vec![g.clone()];
        while let Some(g) = stack.pop() {
            match g {
                Geometry::Point(p) => {
                    let (x, y) = px(&p.0);
                    s.push_str(&format!(
                        "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"#c0392b\"/>"
                    ));
                }
                Geometry::LineString(ls) => s.push_str(&format!(
                    "<path d=\"{}\" fill=\"none\" stroke=\"#2c3e50\" stroke-width=\"1.5\"/>",
                    path(&ls, false)
                )),
                Geometry::Polygon(p) => {
                    let mut d = path(p.exterior(), true);
                    for r in p.interiors() {
                        d.push_str(&path(r, true));
                    }
                    s.push_str(&format!(
                        "<path d=\"{d}\" fill=\"#4a90d9\" fill-opacity=\"0.35\" \
                         fill-rule=\"evenodd\" stroke=\"#1f4e79\" stroke-width=\"1\"/>"
                    ));
                }
                Geometry::MultiPoint(mp) => stack.extend(mp.0.into_iter().map(Geometry::Point)),
                Geometry::MultiLineString(m) => {
                    stack.extend(m.0.into_iter().map(Geometry::LineString))
                }
                Geometry::MultiPolygon(m) => stack.extend(m.0.into_iter().map(Geometry::Polygon)),
                Geometry::GeometryCollection(gc) => stack.extend(gc.0),
                Geometry::Line(l) => stack.push(Geometry::LineString(l.into())),
                Geometry::Rect(r) => stack.push(Geometry::Polygon(r.to_polygon())),
                Geometry::Triangle(t) => stack.push(Geometry::Polygon(t.to_polygon())),
            }
        }
    };
    for g in geometries {
        draw(g);
    }
    s.push_str("</svg>");
    s
}

#[allow(clippy::too_many_arguments)]
pub fn items_page(
    ctx: &Ctx,
    layer: &Layer,
    page_indexes: &[u32],
    properties: &[usize],
    matched: usize,
    offset: usize,
    links: &[Json],
    geometries: &[Geometry<f64>],
) -> Response {
    let mut s = format!(
        "<p>Features {}–{} of {matched}.</p>",
        if page_indexes.is_empty() {
            0
        } else {
            offset + 1
        },
        offset + page_indexes.len()
    );
    s.push_str(&svg_map(geometries, 640.0, 360.0));
    let mut nav = String::new();
    for l in links {
        if matches!(l["rel"].as_str(), Some("prev" | "next" | "alternate")) {
            nav.push_str(&format!(
                " <a href=\"{}\">{}</a>",
                esc(l["href"].as_str().unwrap_or("")),
                esc(l["title"].as_str().unwrap_or(""))
            ));
        }
    }
    s.push_str(&format!("<p>{nav}</p><table><tr><th>id</th>"));
    for &i in properties {
        s.push_str(&format!("<th>{}</th>", esc(&layer.fields[i].name)));
    }
    s.push_str("</tr>");
    for &i in page_indexes {
        let f = &layer.features[i as usize];
        s.push_str(&format!(
            "<tr><td><a href=\"{}\">{}</a></td>",
            esc(&ctx.url(&format!(
                "/collections/{}/items/{}?f=html",
                layer.id(),
                urlencode_segment(&f.id.to_string())
            ))),
            esc(&f.id.to_string())
        ));
        for &p in properties {
            s.push_str(&format!("<td>{}</td>", esc(&f.values[p].to_string())));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    page(ctx, &format!("{} - features", layer.config.title), &s)
}

pub fn item_page(
    ctx: &Ctx,
    layer: &Layer,
    feature: &Feature,
    properties: &[usize],
    links: &[Json],
    geometries: &[Geometry<f64>],
) -> Response {
    let mut s = svg_map(geometries, 480.0, 320.0);
    s.push_str("<table>");
    for &p in properties {
        s.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(&layer.fields[p].name),
            esc(&feature.values[p].to_string())
        ));
    }
    if let Some(reason) = &feature.invalid {
        s.push_str(&format!(
            "<tr><th>invalid geometry</th><td>{}</td></tr>",
            esc(reason)
        ));
    }
    s.push_str("</table><h2>Links</h2>");
    s.push_str(&links_list(&Json::Array(links.to_vec())));
    page(ctx, &format!("{} {}", layer.config.title, feature.id), &s)
}
