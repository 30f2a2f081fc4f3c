//! Content negotiation, one way for every resource: `f` wins; otherwise the `Accept` header,
//! by quality value, exact media types before `type/*` before `*/*`; the resource's first
//! representation when the client says nothing.
//!
//! A resource lists the representations it offers ([`Repr`], first = default) and gets back
//! the one to answer, so a client naming any media type a resource is served as (for example
//! `application/schema+json` on queryables) gets it.

use super::error::ApiError;

pub const JSON: &str = "application/json";
pub const GEOJSON: &str = "application/geo+json";
pub const HTML: &str = "text/html";
pub const CSV: &str = "text/csv";
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";
pub const SCHEMA_JSON: &str = "application/schema+json";
/// A layer's MapLibre style layers (a JSON array).
pub const STYLE_LAYERS: &str = "application/vnd.maplibre.style-layers+json";
/// A whole MapLibre style document.
pub const STYLE: &str = "application/vnd.maplibre.style+json";
/// A QGIS layer style.
pub const QML: &str = "application/vnd.qgis.qml";

/// A representation a resource may be served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr {
    Json,
    GeoJson,
    Html,
    Csv,
    /// A JSON Schema (queryables, feature schemas).
    SchemaJson,
    /// The OpenAPI document.
    OpenApi,
}

impl Repr {
    /// The media type answered (`Content-Type`, link `type`).
    pub fn media_type(self) -> &'static str {
        match self {
            Repr::Json => JSON,
            Repr::GeoJson => GEOJSON,
            Repr::Html => HTML,
            Repr::Csv => CSV,
            Repr::SchemaJson => SCHEMA_JSON,
            Repr::OpenApi => OPENAPI_JSON,
        }
    }

    /// Every media type a client may name in `Accept` (or `f`) for this representation,
    /// without parameters. JSON flavours also answer plain `application/json`, since they are
    /// JSON.
    fn accepted(self) -> &'static [&'static str] {
        match self {
            Repr::Json => &[JSON],
            Repr::GeoJson => &[GEOJSON, JSON],
            Repr::Html => &[HTML, "application/xhtml+xml"],
            Repr::Csv => &[CSV],
            Repr::SchemaJson => &[SCHEMA_JSON, JSON],
            Repr::OpenApi => &["application/vnd.oai.openapi+json", JSON],
        }
    }

    /// The short names `f` takes for it (the OpenAPI document lists them).
    pub fn f_names(self) -> &'static [&'static str] {
        match self {
            Repr::Json | Repr::SchemaJson | Repr::OpenApi => &["json"],
            Repr::GeoJson => &["json", "geojson"],
            Repr::Html => &["html"],
            Repr::Csv => &["csv"],
        }
    }

    /// A readable name for link titles.
    pub fn name(self) -> &'static str {
        match self {
            Repr::Json => "JSON",
            Repr::GeoJson => "GeoJSON",
            Repr::Html => "HTML",
            Repr::Csv => "CSV",
            Repr::SchemaJson => "JSON Schema",
            Repr::OpenApi => "OpenAPI",
        }
    }

    fn matches_f(self, f: &str) -> bool {
        self.f_names().contains(&f)
    }
}

/// The `f` value that selects `repr` among `offers` (the first of its names that does).
pub fn f_value(repr: Repr, offers: &[Repr]) -> &'static str {
    repr.f_names()
        .iter()
        .copied()
        .find(|name| offers.iter().find(|o| o.matches_f(name)) == Some(&repr))
        .unwrap_or(repr.f_names()[0])
}

/// Chooses among `offers` (not empty; the first is the default) from `f` and `Accept`.
pub fn negotiate(offers: &[Repr], f: Option<&str>, accept: Option<&str>) -> Result<Repr, ApiError> {
    let Some(&default) = offers.first() else {
        return Err(ApiError::internal("a resource offers no representation"));
    };
    if let Some(f) = f {
        let f = f.trim().to_ascii_lowercase();
        return offers
            .iter()
            .copied()
            .find(|o| o.matches_f(&f))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "parameter f: unknown format {f:?} (use {})",
                    offers
                        .iter()
                        .map(|o| f_value(*o, offers))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            });
    }
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(default);
    };
    // (quality, specificity, representation)
    let mut best: Option<(f32, u8, Repr)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if q <= 0.0 || media.is_empty() {
            continue;
        }
        let found = if media == "*/*" {
            Some((default, 0))
        } else if let Some(kind) = media.strip_suffix("/*") {
            offers
                .iter()
                .copied()
                .find(|o| o.media_type().split('/').next() == Some(kind))
                .map(|o| (o, 1))
        } else {
            offers
                .iter()
                .copied()
                .find(|o| o.accepted().contains(&media.as_str()))
                .map(|o| (o, 2))
        };
        let Some((repr, specificity)) = found else {
            continue;
        };
        if best.is_none_or(|(bq, bs, _)| q > bq || (q == bq && specificity > bs)) {
            best = Some((q, specificity, repr));
        }
    }
    best.map(|(_, _, r)| r).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "no representation matches Accept: {accept} (available: {})",
            offers
                .iter()
                .map(|o| o.media_type())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: [Repr; 2] = [Repr::Json, Repr::Html];
    const SCHEMA: [Repr; 2] = [Repr::SchemaJson, Repr::Html];
    const REPORT: [Repr; 3] = [Repr::Json, Repr::Html, Repr::GeoJson];
    const TABLE: [Repr; 4] = [Repr::Json, Repr::Html, Repr::Csv, Repr::GeoJson];

    fn accept(offers: &[Repr], v: &str) -> Result<Repr, ApiError> {
        negotiate(offers, None, Some(v))
    }

    #[test]
    fn browsers_get_html_clients_get_json() {
        let chrome = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(accept(&PAGE, chrome).unwrap(), Repr::Html);
        assert_eq!(
            accept(
                &[Repr::GeoJson, Repr::Html],
                "application/geo+json, application/json"
            )
            .unwrap(),
            Repr::GeoJson
        );
        assert_eq!(accept(&PAGE, "*/*").unwrap(), Repr::Json);
        assert_eq!(negotiate(&PAGE, None, None).unwrap(), Repr::Json);
        assert_eq!(
            accept(&PAGE, "text/html;q=0.5, application/json").unwrap(),
            Repr::Json
        );
        assert!(matches!(
            accept(&PAGE, "image/png"),
            Err(ApiError::NotAcceptable(_))
        ));
    }

    #[test]
    fn every_media_type_a_resource_is_served_as_is_accepted() {
        assert_eq!(
            accept(&SCHEMA, "application/schema+json").unwrap(),
            Repr::SchemaJson
        );
        assert_eq!(
            accept(&SCHEMA, "application/json").unwrap(),
            Repr::SchemaJson
        );
        assert_eq!(accept(&SCHEMA, "application/*").unwrap(), Repr::SchemaJson);
        assert_eq!(accept(&SCHEMA, "text/*").unwrap(), Repr::Html);
        assert_eq!(
            accept(
                &[Repr::OpenApi, Repr::Html],
                "application/vnd.oai.openapi+json;version=3.0"
            )
            .unwrap(),
            Repr::OpenApi
        );
        assert_eq!(accept(&TABLE, "text/csv").unwrap(), Repr::Csv);
        assert_eq!(accept(&TABLE, "text/*").unwrap(), Repr::Html);
        assert_eq!(
            accept(&REPORT, "application/geo+json").unwrap(),
            Repr::GeoJson
        );
        // Quality values: the better one wins whatever the order.
        assert_eq!(
            accept(&TABLE, "text/html;q=0.2, text/csv;q=0.9").unwrap(),
            Repr::Csv
        );
        // q=0 refuses.
        assert!(accept(&PAGE, "application/json;q=0").is_err());
        // At equal quality the exact type beats the wildcard.
        assert_eq!(accept(&PAGE, "*/*, text/html").unwrap(), Repr::Html);
    }

    #[test]
    fn f_wins_over_accept_and_unknown_f_is_named() {
        assert_eq!(
            negotiate(&PAGE, Some("json"), Some("text/html")).unwrap(),
            Repr::Json
        );
        assert_eq!(
            negotiate(&REPORT, Some("geojson"), None).unwrap(),
            Repr::GeoJson
        );
        assert_eq!(negotiate(&REPORT, Some("json"), None).unwrap(), Repr::Json);
        assert_eq!(
            negotiate(&[Repr::GeoJson, Repr::Html], Some("json"), None).unwrap(),
            Repr::GeoJson
        );
        match negotiate(&PAGE, Some("xml"), Some("text/html")) {
            Err(ApiError::BadRequest(m)) => {
                assert!(m.contains("\"xml\"") && m.contains("json, html"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn links_name_the_f_that_selects_them() {
        assert_eq!(f_value(Repr::GeoJson, &REPORT), "geojson");
        assert_eq!(f_value(Repr::GeoJson, &[Repr::GeoJson, Repr::Html]), "json");
        assert_eq!(f_value(Repr::Csv, &TABLE), "csv");
        assert_eq!(f_value(Repr::SchemaJson, &SCHEMA), "json");
    }
}
