//! One way to answer each kind of body: JSON of an exact media type, GeoJSON with its
//! `Content-Crs`, CSV, plain bytes of a named type; and the link objects of OGC API answers.
//! HTML pages are in [`super::html`].

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;

use super::negotiate::{f_value, Repr, QML, STYLE_LAYERS};
use super::request::Ctx;
use crate::crs::OutputCrs;

/// The link relation of a web map of the data (OGC).
pub const REL_MAP: &str = "http://www.opengis.net/def/rel/ogc/1.0/map";

/// The `Content-Crs` header of OGC API - Features Part 2.
pub static CONTENT_CRS: HeaderName = HeaderName::from_static("content-crs");

/// A body with a `Content-Type`.
pub fn typed(body: impl Into<axum::body::Body>, media_type: &'static str) -> Response {
    typed_header(body, HeaderValue::from_static(media_type))
}

/// [`typed`] with the header value made already.
fn typed_header(body: impl Into<axum::body::Body>, media_type: HeaderValue) -> Response {
    let mut response = (StatusCode::OK, body.into()).into_response();
    let headers = response.headers_mut();
    // Room for what the middleware adds (ETag, Cache-Control, Vary, CORS), allocated once.
    headers.reserve(16);
    headers.insert(CONTENT_TYPE, media_type);
    response
}

/// The headers of GeoJSON in CRS84, checked once, when compiled (`from_static` checks its
/// text every time it runs).
const GEOJSON_TYPE: HeaderValue = HeaderValue::from_static("application/geo+json");
const CRS84_CONTENT_CRS: HeaderValue =
    HeaderValue::from_static("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>");

/// A JSON value answered with an exact media type.
pub fn json(value: &Json, media_type: &'static str) -> Response {
    typed(value.to_string(), media_type)
}

/// A GeoJSON document written in `crs`, with `Content-Crs` saying so.
pub fn geojson(body: Vec<u8>, crs: &OutputCrs) -> Response {
    let mut response = typed_header(body, GEOJSON_TYPE);
    let value = if crs.is_crs84() {
        Ok(CRS84_CONTENT_CRS)
    } else {
        HeaderValue::from_str(&format!("<{}>", crs.uri))
    };
    if let Ok(v) = value {
        response.headers_mut().insert(CONTENT_CRS.clone(), v);
    }
    response
}

/// CSV text, shown inline with a file name for browsers that save it.
pub fn csv(text: impl Into<axum::body::Body>, filename: &'static str) -> Response {
    let mut response = typed(text, "text/csv; charset=utf-8");
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        response.headers_mut().insert(CONTENT_DISPOSITION, v);
    }
    response
}

/// A link object of OGC API responses.
pub fn link(href: String, rel: &str, media_type: &str, title: &str) -> Json {
    serde_json::json!({"href": href, "rel": rel, "type": media_type, "title": title})
}

/// A link object written straight to JSON, members in the order of [`link`]: for answers
/// that write several per request (pages of features), where building a `serde_json::Value`
/// map per link costs more than the rest of the answer.
#[derive(Debug, serde::Serialize)]
pub struct Link<'a> {
    pub href: String,
    pub rel: &'a str,
    #[serde(rename = "type")]
    pub media_type: &'a str,
    pub title: &'a str,
}

impl Link<'_> {
    /// Writes `links` as a JSON array, as serde would, without its per-character escaping
    /// of text that needs none.
    pub fn write_array(out: &mut Vec<u8>, links: &[Link]) {
        use crate::geojson_io::write::write_str;
        out.push(b'[');
        for (n, l) in links.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"href":"#);
            write_str(out, &l.href);
            out.extend_from_slice(br#","rel":"#);
            write_str(out, l.rel);
            out.extend_from_slice(br#","type":"#);
            write_str(out, l.media_type);
            out.extend_from_slice(br#","title":"#);
            write_str(out, l.title);
            out.push(b'}');
        }
        out.push(b']');
    }
}

/// `self` (in `this`) and `alternate` links (each other representation of `offers`) for the
/// resource at `path`.
pub fn self_links(ctx: &Ctx, path: &str, this: Repr, offers: &[Repr], title: &str) -> Vec<Json> {
    let href = |r: Repr| ctx.url(&format!("{path}?f={}", f_value(r, offers)));
    let mut links = vec![link(
        href(this),
        "self",
        this.media_type(),
        &format!("{title} (this document)"),
    )];
    for &other in offers.iter().filter(|o| **o != this) {
        links.push(link(
            href(other),
            "alternate",
            other.media_type(),
            &format!("{title} as {}", other.name()),
        ));
    }
    links
}

/// The `rel=stylesheet` links of a layer with style `files` (MapLibre JSON, QML): its
/// MapLibre style layers and its QGIS style, served under `/styles`.
pub fn style_links(
    ctx: &Ctx,
    layer_id: &str,
    files: (Option<std::path::PathBuf>, Option<std::path::PathBuf>),
) -> Vec<Json> {
    let mut links = Vec::new();
    if files.0.is_some() {
        links.push(link(
            ctx.url(&format!("/styles/{layer_id}")),
            "stylesheet",
            STYLE_LAYERS,
            "MapLibre style layers of this layer",
        ));
    }
    if files.1.is_some() {
        links.push(link(
            ctx.url(&format!("/styles/{layer_id}.qml")),
            "stylesheet",
            QML,
            "QGIS style (QML) of this layer",
        ));
    }
    links
}

/// Percent-encodes a path segment (feature ids may hold spaces or slashes).
pub fn urlencode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Link;

    #[test]
    fn the_fixed_geojson_type_is_the_media_type_of_geojson() {
        use super::{Repr, GEOJSON_TYPE};
        assert_eq!(GEOJSON_TYPE, Repr::GeoJson.media_type());
    }

    #[test]
    fn links_are_written_as_serde_writes_them() {
        let links = [
            Link {
                href: "http://h/collections/zones/items?filter=S_INTERSECTS%28geometry%29&f=json"
                    .into(),
                rel: "self",
                media_type: "application/geo+json",
                title: "this page",
            },
            Link {
                href: "http://\"odd\"\\host/".into(),
                rel: "collection",
                media_type: "application/json",
                title: "Zone \"produttive\"\n",
            },
        ];
        let mut out = Vec::new();
        Link::write_array(&mut out, &links);
        assert_eq!(out, serde_json::to_vec(&links).unwrap());
        let mut empty = Vec::new();
        Link::write_array(&mut empty, &[]);
        assert_eq!(empty, b"[]");
    }
}
