//! OGC API - Tiles (Part 1, vector tiles in the WebMercatorQuad tile matrix set, Mapbox Vector
//! Tiles), TileJSON 3.0.0 and plain XYZ URLs, for one collection or the whole catalogue.
//!
//! - `/tileMatrixSets`, `/tileMatrixSets/WebMercatorQuad`: the tile matrix set in the JSON
//!   encoding of the OGC 2D Tile Matrix Set standard 2.0, its matrices computed
//!   ([`crate::tiles::TileMatrix`]).
//! - `/collections/{id}/tiles` (the tilesets of a collection), `/collections/{id}/tiles/WebMercatorQuad`
//!   (the tileset: links, layer and its properties, bounding box, tile matrix limits),
//!   `/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}` (a tile, cut by
//!   [`crate::tiles::cut`] on the blocking pool; an empty tile is `204 No Content`). A tile takes
//!   a CQL2 `filter` (with `filter-lang`, `filter-crs`) as the items do: only the features it
//!   matches are in the tile.
//! - `/tiles`, `/tiles/WebMercatorQuad`, `/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`:
//!   the same for the whole catalogue, one MVT layer per collection (OGC "dataset tilesets").
//! - TileJSON 3.0.0 at `.../tiles/WebMercatorQuad/tilejson.json`, with XYZ templates
//!   `/collections/{id}/tiles/{z}/{x}/{y}.mvt` and `/tiles/{z}/{x}/{y}.mvt`. The OGC paths put
//!   the row (`y`) before the column (`x`); the XYZ paths put the column first, as XYZ clients
//!   (GDAL, QGIS, MapLibre with a `tiles` template) expect. Both name the same tiles.
//!
//! Tiles are kept in the server's [`TileCache`](crate::tiles::cache::TileCache), keyed by the
//! layer's generation (which an edit or a reload changes), the tile and the filter text: a
//! cached tile is answered on the async worker without touching the blocking pool.
//!
//! `ETag` and `Cache-Control` come from the middleware, per layer generation like every path
//! under `/collections/{id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value as Json};

use super::http::negotiate::JSON;
use super::http::oas;
use super::http::param::{Param, Schema, Scope};
use super::http::query as params;
use super::http::respond::{self, link};
use super::http::{ApiError, AppState, Ctx, Live};
use crate::crs;
use crate::feature::{FeatureId, FieldType};
use crate::filter::{Filter, FilterLang};
use crate::store::Layer;
use crate::tiles::cache::TileKey;
use crate::tiles::{self, TileError, TileId, TileMatrix, MAX_ZOOM, MERCATOR_CRS, TILE_SIZE};

/// The media type of a Mapbox Vector Tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

/// The id of the one tile matrix set.
const TMS_ID: &str = "WebMercatorQuad";
/// The OGC URI of the tile matrix set.
const WEB_MERCATOR_QUAD: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
/// The CRS of the tile matrix set as a URI.
const MERCATOR_URI: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";
/// Link relations of OGC API - Tiles.
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";
const REL_GEODATA: &str = "http://www.opengis.net/def/rel/ogc/1.0/geodata";
const REL_TILESETS_VECTOR: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";

/// The conformance classes of OGC API - Tiles this module implements.
pub const CONFORMANCE: [&str; 7] = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
];

/// The routes of the tiles. The OGC paths name the tile matrix set literally (`WebMercatorQuad`,
/// the only one); the XYZ paths have a number in its place.
pub fn routes() -> Router<Live> {
    Router::new()
        .route("/tileMatrixSets", get(matrix_sets))
        .route("/tileMatrixSets/{tms}", get(matrix_set))
        .route("/collections/{id}/tiles", get(tilesets))
        .route("/collections/{id}/tiles/WebMercatorQuad", get(tileset))
        .route(
            "/collections/{id}/tiles/WebMercatorQuad/tilejson.json",
            get(tilejson),
        )
        .route(
            "/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}",
            get(tile),
        )
        .route("/collections/{id}/tiles/{z}/{x}/{file}", get(xyz_tile))
        .route("/tiles", get(catalogue_tilesets))
        .route("/tiles/WebMercatorQuad", get(catalogue_tileset))
        .route(
            "/tiles/WebMercatorQuad/tilejson.json",
            get(catalogue_tilejson),
        )
        .route("/tiles/WebMercatorQuad/{z}/{y}/{x}", get(catalogue_tile))
        .route("/tiles/{z}/{x}/{file}", get(catalogue_xyz_tile))
}

const FILTER: Param = Param::new(
    "filter",
    Schema::Text,
    "A CQL2 filter on the queryables (/collections/{collectionId}/queryables), in \
     filter-lang: only the features it matches are in the tile.",
);
const FILTER_LANG: Param = Param::new(
    "filter-lang",
    Schema::Word(&["cql2-text", "cql2-json"]),
    "The language of filter (default cql2-text). Only together with filter.",
);
const FILTER_CRS: Param = Param::new(
    "filter-crs",
    Schema::Crs,
    "The CRS of the geometry literals in filter, in its axis order (default CRS84). Only \
     together with filter.",
);

/// A collection's tile takes a filter.
static TILE_PARAMS: [Param; 3] = [FILTER, FILTER_LANG, FILTER_CRS];
/// The metadata resources and the catalogue's tiles take none.
static NO_PARAMS: [Param; 0] = [];

/// The tile matrix set of a path: only WebMercatorQuad, else a 404 naming it.
fn check_tms(tms: &str) -> Result<(), ApiError> {
    if tms == TMS_ID {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "no tile matrix set {tms:?} (this service has {TMS_ID})"
        )))
    }
}

/// The OGC template of the tiles under `prefix` (`/collections/{id}/tiles` or `/tiles`).
fn ogc_template(prefix: &str) -> String {
    format!("{prefix}/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}")
}

/// The XYZ template of the tiles under `prefix`.
fn xyz_template(prefix: &str) -> String {
    format!("{prefix}/{{z}}/{{x}}/{{y}}.mvt")
}

// ---------------------------------------------------------------------------------------------
// The tile matrix set.

/// The tile matrix set in the JSON encoding of OGC 2D TMS 2.0.
fn matrix_set_json(ctx: &Ctx) -> Json {
    let matrices: Vec<Json> = (0..=MAX_ZOOM)
        .map(|z| {
            let m = TileMatrix::of(z);
            json!({
                "id": z.to_string(),
                "scaleDenominator": m.scale_denominator,
                "cellSize": m.cell_size,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-tiles::MERCATOR_HALF, tiles::MERCATOR_HALF],
                "tileWidth": TILE_SIZE,
                "tileHeight": TILE_SIZE,
                "matrixWidth": m.matrix_size,
                "matrixHeight": m.matrix_size,
            })
        })
        .collect();
    json!({
        "id": TMS_ID,
        "title": "Google Maps Compatible for the World",
        "uri": WEB_MERCATOR_QUAD,
        "crs": MERCATOR_URI,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "links": [link(ctx.url(&format!("/tileMatrixSets/{TMS_ID}")), "self", JSON,
                       "WebMercatorQuad")],
        "tileMatrices": matrices,
    })
}

async fn matrix_sets(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let body = json!({
        "links": [link(ctx.url("/tileMatrixSets"), "self", JSON, "tile matrix sets")],
        "tileMatrixSets": [{
            "id": TMS_ID,
            "title": "Google Maps Compatible for the World",
            "uri": WEB_MERCATOR_QUAD,
            "crs": MERCATOR_URI,
            "links": [link(ctx.url(&format!("/tileMatrixSets/{TMS_ID}")), REL_TILING_SCHEME,
                           JSON, "WebMercatorQuad")],
        }],
    });
    Ok(respond::json(&body, JSON))
}

async fn matrix_set(Path(tms): Path<String>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    check_tms(&tms)?;
    Ok(respond::json(&matrix_set_json(&ctx), JSON))
}

// ---------------------------------------------------------------------------------------------
// Metadata of tilesets.

/// A box in CRS84 and the same in EPSG:3857.
type Bounds = (geo::Rect<f64>, geo::Rect<f64>);

/// The extent of `layer` in CRS84 (west, south, east, north) and in EPSG:3857; `None` for an
/// empty layer.
fn layer_bounds(layer: &Layer, working_crs: &str) -> Result<Option<Bounds>, ApiError> {
    let Some(extent) = layer.extent() else {
        return Ok(None);
    };
    let to_crs84 = crs::cached_transformer(working_crs, crs::CRS84)
        .map_err(|e| ApiError::internal(format!("extent of {}: {e}", layer.id())))?;
    let to_mercator = crs::cached_transformer(working_crs, MERCATOR_CRS)
        .map_err(|e| ApiError::internal(format!("extent of {}: {e}", layer.id())))?;
    let lonlat = to_crs84
        .bounds(extent)
        .map_err(|e| ApiError::internal(format!("extent of {}: {e}", layer.id())))?;
    let mercator = to_mercator
        .bounds(extent)
        .map_err(|e| ApiError::internal(format!("extent of {}: {e}", layer.id())))?;
    Ok(Some((lonlat, mercator)))
}

/// The union of boxes.
fn union(a: Option<geo::Rect<f64>>, b: geo::Rect<f64>) -> geo::Rect<f64> {
    a.map_or(b, |a| crate::feature::rect_union(a, b))
}

/// `tileMatrixSetLimits`: the rows and columns of each zoom that the box (EPSG:3857) touches.
fn limits(mercator: geo::Rect<f64>) -> Vec<Json> {
    (0..=MAX_ZOOM)
        .map(|z| {
            let (c0, r0, c1, r1) = tiles::tile_range(mercator, z);
            json!({"tileMatrix": z.to_string(), "minTileRow": r0, "maxTileRow": r1,
                   "minTileCol": c0, "maxTileCol": c1})
        })
        .collect()
}

/// The MVT property names of a layer and their TileJSON types ("Number", "String",
/// "Boolean"), the id first when it is a property (see [`crate::tiles::mvt`]).
fn tile_fields(layer: &Layer) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let text_ids = layer
        .features
        .iter()
        .any(|f| !matches!(f.id, FeatureId::Int(i) if i >= 0));
    if text_ids && layer.field_index("id").is_none() {
        let all_int = layer
            .features
            .iter()
            .all(|f| matches!(f.id, FeatureId::Int(_)));
        out.push(("id".to_string(), if all_int { "Number" } else { "String" }));
    }
    for f in &layer.fields {
        let ty = match f.ty {
            FieldType::Bool => "Boolean",
            FieldType::Int | FieldType::Real => "Number",
            FieldType::String | FieldType::Date | FieldType::DateTime => "String",
        };
        out.push((f.name.clone(), ty));
    }
    out
}

/// The JSON Schema type of a TileJSON field type.
fn schema_type(ty: &str) -> &'static str {
    match ty {
        "Number" => "number",
        "Boolean" => "boolean",
        _ => "string",
    }
}

/// The geometry dimension of a layer's features (0 points, 1 lines, 2 areas) when they all
/// have the same.
fn geometry_dimension(layer: &Layer) -> Option<u8> {
    let mut dims = layer.geometry_types().map(|t| match t {
        "Point" | "MultiPoint" => 0,
        "LineString" | "MultiLineString" => 1,
        _ => 2,
    });
    let first = dims.next()?;
    dims.all(|d| d == first).then_some(first)
}

/// The layer object of a tileset.
fn tileset_layer(ctx: &Ctx, layer: &Layer) -> Json {
    let id = layer.id();
    let properties: Map<String, Json> = tile_fields(layer)
        .into_iter()
        .map(|(name, ty)| (name, json!({"type": schema_type(ty)})))
        .collect();
    let mut l = json!({
        "id": id,
        "title": layer.config.title,
        "dataType": "vector",
        "minTileMatrix": "0",
        "maxTileMatrix": MAX_ZOOM.to_string(),
        "propertiesSchema": {"type": "object", "properties": properties},
        "links": [link(ctx.url(&format!("/collections/{id}")), REL_GEODATA, JSON,
                       &layer.config.title)],
    });
    if let Some(d) = geometry_dimension(layer) {
        l["geometryDimension"] = json!(d);
    }
    l
}

/// A tileset: `prefix` is `/collections/{id}/tiles` or `/tiles`.
fn tileset_json(
    ctx: &Ctx,
    prefix: &str,
    title: &str,
    layers: &[&Layer],
    working_crs: &str,
) -> Result<Json, ApiError> {
    let mut lonlat = None;
    let mut mercator = None;
    for l in layers {
        if let Some((a, b)) = layer_bounds(l, working_crs)? {
            lonlat = Some(union(lonlat, a));
            mercator = Some(union(mercator, b));
        }
    }
    let mut tile_link = link(
        ctx.url(&ogc_template(prefix)),
        "item",
        MVT,
        &format!("{title} as Mapbox Vector Tiles"),
    );
    tile_link["templated"] = json!(true);
    let mut body = json!({
        "title": format!("{title} ({TMS_ID})"),
        "dataType": "vector",
        "crs": MERCATOR_URI,
        "tileMatrixSetURI": WEB_MERCATOR_QUAD,
        "links": [
            link(ctx.url(&format!("{prefix}/{TMS_ID}")), "self", JSON, "this tileset"),
            link(ctx.url(&format!("/tileMatrixSets/{TMS_ID}")), REL_TILING_SCHEME, JSON,
                 "the tile matrix set"),
            tile_link,
            link(ctx.url(&format!("{prefix}/{TMS_ID}/tilejson.json")), "alternate", JSON,
                 "this tileset as TileJSON 3.0.0 (XYZ template)"),
        ],
        "layers": layers.iter().map(|l| tileset_layer(ctx, l)).collect::<Vec<_>>(),
    });
    if let (Some(ll), Some(m)) = (lonlat, mercator) {
        body["boundingBox"] = json!({
            "lowerLeft": [ll.min().x, ll.min().y],
            "upperRight": [ll.max().x, ll.max().y],
            "crs": crs::CRS84_URI,
        });
        body["tileMatrixSetLimits"] = json!(limits(m));
    }
    Ok(body)
}

/// A list of the one tileset under `prefix`.
fn tilesets_json(ctx: &Ctx, prefix: &str, title: &str, up: Json) -> Json {
    let mut tile_link = link(
        ctx.url(&ogc_template(prefix)),
        "item",
        MVT,
        &format!("{title} as Mapbox Vector Tiles"),
    );
    tile_link["templated"] = json!(true);
    json!({
        "links": [link(ctx.url(prefix), "self", JSON, "tilesets"), up],
        "tilesets": [{
            "title": format!("{title} ({TMS_ID})"),
            "dataType": "vector",
            "crs": MERCATOR_URI,
            "tileMatrixSetURI": WEB_MERCATOR_QUAD,
            "minZoom": 0,
            "maxZoom": MAX_ZOOM,
            "links": [
                tile_link,
                link(ctx.url(&format!("{prefix}/{TMS_ID}")), "self", JSON, "the tileset"),
                link(ctx.url(&format!("/tileMatrixSets/{TMS_ID}")), REL_TILING_SCHEME, JSON,
                     "the tile matrix set"),
            ],
        }],
    })
}

async fn tilesets(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let (_, layer) = state.layer(&id)?;
    let up = link(
        ctx.url(&format!("/collections/{id}")),
        "collection",
        JSON,
        &layer.config.title,
    );
    let mut body = tilesets_json(
        &ctx,
        &format!("/collections/{id}/tiles"),
        &layer.config.title,
        up,
    );
    body["tilesets"][0]["layers"] = json!([{"id": id, "dataType": "vector"}]);
    Ok(respond::json(&body, JSON))
}

async fn tileset(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let worker = state.clone();
    let body = worker
        .run_blocking(move || {
            let (_, layer) = state.layer(&id)?;
            let prefix = format!("/collections/{id}/tiles");
            let mut body = tileset_json(
                &ctx,
                &prefix,
                &layer.config.title,
                &[layer],
                &state.catalog().working_crs,
            )?;
            body["links"].as_array_mut().expect("links").push(link(
                ctx.url(&format!("/collections/{id}")),
                REL_GEODATA,
                JSON,
                &layer.config.title,
            ));
            Ok(body)
        })
        .await?;
    Ok(respond::json(&body, JSON))
}

async fn catalogue_tilesets(ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let up = link(ctx.url("/"), "root", JSON, "the landing page");
    let body = tilesets_json(&ctx, "/tiles", "Every collection", up);
    Ok(respond::json(&body, JSON))
}

async fn catalogue_tileset(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let worker = state.clone();
    let body = worker
        .run_blocking(move || {
            let catalog = state.catalog();
            let layers: Vec<&Layer> = catalog.layers().iter().map(|l| &**l).collect();
            tileset_json(
                &ctx,
                "/tiles",
                "Every collection",
                &layers,
                &catalog.working_crs,
            )
        })
        .await?;
    Ok(respond::json(&body, JSON))
}

// ---------------------------------------------------------------------------------------------
// TileJSON.

/// A TileJSON 3.0.0 document of `layers`, tiles at the XYZ template under `prefix`.
fn tilejson_json(
    ctx: &Ctx,
    prefix: &str,
    name: &str,
    layers: &[&Layer],
    working_crs: &str,
) -> Result<Json, ApiError> {
    let mut bounds = None;
    let mut vector_layers = Vec::new();
    for l in layers {
        if let Some((ll, _)) = layer_bounds(l, working_crs)? {
            bounds = Some(union(bounds, ll));
        }
        let fields: Map<String, Json> = tile_fields(l)
            .into_iter()
            .map(|(name, ty)| (name, json!(ty)))
            .collect();
        vector_layers.push(json!({
            "id": l.id(),
            "description": l.config.title,
            "minzoom": 0,
            "maxzoom": MAX_ZOOM,
            "fields": fields,
        }));
    }
    let mut doc = json!({
        "tilejson": "3.0.0",
        "name": name,
        "scheme": "xyz",
        "tiles": [ctx.url(&xyz_template(prefix))],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "vector_layers": vector_layers,
    });
    if let Some(b) = bounds {
        let (w, s, e, n) = (b.min().x, b.min().y, b.max().x, b.max().y);
        doc["bounds"] = json!([w, s, e, n]);
        // The zoom whose one tile about covers the box.
        let span = (e - w).max(1e-9);
        let z = (360.0 / span)
            .log2()
            .floor()
            .clamp(0.0, f64::from(MAX_ZOOM));
        doc["center"] = json!([(w + e) / 2.0, (s + n) / 2.0, z]);
    }
    Ok(doc)
}

async fn tilejson(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let worker = state.clone();
    let body = worker
        .run_blocking(move || {
            let (_, layer) = state.layer(&id)?;
            tilejson_json(
                &ctx,
                &format!("/collections/{id}/tiles"),
                &layer.config.title,
                &[layer],
                &state.catalog().working_crs,
            )
        })
        .await?;
    Ok(respond::json(&body, JSON))
}

async fn catalogue_tilejson(State(state): State<AppState>, ctx: Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let worker = state.clone();
    let body = worker
        .run_blocking(move || {
            let catalog = state.catalog();
            let layers: Vec<&Layer> = catalog.layers().iter().map(|l| &**l).collect();
            tilejson_json(&ctx, "/tiles", "territorio", &layers, &catalog.working_crs)
        })
        .await?;
    Ok(respond::json(&body, JSON))
}

// ---------------------------------------------------------------------------------------------
// Tiles.

/// A tile index of the path: an integer, else a 400 naming the parameter.
fn index(name: &str, raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>().map_err(|_| {
        ApiError::bad_request(format!(
            "path parameter {name}: {raw:?} is not a non-negative integer"
        ))
    })
}

/// The tile of path parameters (names for errors: OGC or XYZ).
fn tile_id(names: [&str; 3], z: &str, row: &str, col: &str) -> Result<TileId, ApiError> {
    let (z, y, x) = (
        index(names[0], z)?,
        index(names[1], row)?,
        index(names[2], col)?,
    );
    TileId::new(z, x, y).map_err(|e| {
        let name = match e {
            TileError::Zoom(_) => names[0],
            TileError::Row { .. } => names[1],
            _ => names[2],
        };
        ApiError::not_found(format!("path parameter {name}: {e}"))
    })
}

/// The row of an XYZ file name (`{y}.mvt`).
fn xyz_row(file: &str) -> Result<&str, ApiError> {
    file.strip_suffix(".mvt").ok_or_else(|| {
        ApiError::not_found(format!(
            "path parameter y: {file:?} is not a row followed by .mvt"
        ))
    })
}

/// A checked filter request: the text, language and CRS, compiled later (on the blocking
/// pool, and only on a cache miss).
struct FilterRequest {
    text: String,
    lang: FilterLang,
    crs: String,
}

impl FilterRequest {
    /// `filter`, `filter-lang`, `filter-crs`, checked as the items check them.
    fn of(ctx: &Ctx, working_crs: &str) -> Result<Option<FilterRequest>, ApiError> {
        let Some(text) = ctx.param("filter") else {
            for p in ["filter-lang", "filter-crs"] {
                if ctx.param(p).is_some() {
                    return Err(ApiError::bad_request(format!(
                        "parameter {p} is given without filter"
                    )));
                }
            }
            return Ok(None);
        };
        let lang = match ctx.param("filter-lang") {
            None => FilterLang::Cql2Text,
            Some(l) => l
                .parse::<FilterLang>()
                .map_err(|e| ApiError::bad_request(format!("parameter filter-lang: {e}")))?,
        };
        let crs = match ctx.param("filter-crs") {
            Some(v) => params::crs_param("filter-crs", v, working_crs)?
                .id
                .into_owned(),
            None => crs::CRS84.to_string(),
        };
        Ok(Some(FilterRequest {
            text: text.to_string(),
            lang,
            crs,
        }))
    }

    /// The cache key's text.
    fn key(&self) -> String {
        format!("{}\n{}\n{}", self.lang.name(), self.crs, self.text)
    }

    fn compile(&self, layer: &Layer, working_crs: &str) -> Result<Filter, ApiError> {
        Filter::compile(&self.text, self.lang, layer, &self.crs, working_crs)
            .map_err(|e| ApiError::bad_request(format!("parameter filter: {e}")))
    }
}

/// The cache key of a tile of a layer.
fn key(state: &AppState, id: &str, tile: TileId, filter: &str) -> Result<TileKey, ApiError> {
    let generation = state
        .layer_generation(id)
        .ok_or_else(|| ApiError::not_found(format!("no collection {id:?}")))?;
    Ok(TileKey {
        layer: id.to_string(),
        generation,
        z: tile.z,
        x: tile.x,
        y: tile.y,
        filter: filter.to_string(),
    })
}

/// The tile of `layer` ([`tiles::cut`]). A change log's is cut from the changes whose
/// envelope meets the tile (and the filter's box), read from the store for it.
fn cut(
    layer: &Layer,
    working_crs: &str,
    tile: TileId,
    filter: Option<&Filter>,
) -> Result<Option<Vec<u8>>, ApiError> {
    let failed = |e: TileError| {
        ApiError::internal(format!(
            "collection {}, tile {}/{}/{}: {e}",
            layer.id(),
            tile.z,
            tile.y,
            tile.x
        ))
    };
    let Some(log) = &layer.change_log else {
        return tiles::cut(layer, working_crs, tile, filter).map_err(failed);
    };
    let Some(bounds) = tiles::working_bounds(layer, working_crs, tile).map_err(failed)? else {
        return Ok(None);
    };
    let mut boxes = vec![bounds];
    if let Some(f) = filter {
        if !f.can_match() {
            return Ok(None);
        }
        boxes.extend(f.envelope());
    }
    let seqs = log.select(layer.version, &boxes, None);
    if seqs.is_empty() {
        return Ok(None);
    }
    let features = log.read(&seqs).map_err(ApiError::elsewhere)?;
    let part = crate::edit::log::features_layer(layer, features).map_err(ApiError::internal)?;
    tiles::cut(&part, working_crs, tile, filter).map_err(failed)
}

/// The answer of a tile: the MVT, or `204` for an empty one.
fn answer(tile: Option<Arc<[u8]>>) -> Response {
    match tile {
        Some(bytes) => respond::typed(Bytes::from_owner(bytes), MVT),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// The tile of a collection, from the cache or cut (with its filter) on the blocking pool.
async fn layer_tile(
    state: AppState,
    id: String,
    tile: TileId,
    ctx: &Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&TILE_PARAMS)?;
    let working_crs = state.catalog().working_crs.clone();
    let filter = FilterRequest::of(ctx, &working_crs)?;
    let key = key(
        &state,
        &id,
        tile,
        &filter.as_ref().map(FilterRequest::key).unwrap_or_default(),
    )?;
    if let Some(hit) = state.tile_cache().get(&key) {
        return Ok(answer(hit));
    }
    let worker = state.clone();
    let bytes = worker
        .run_blocking(move || {
            let (_, layer) = state.layer(&id)?;
            let filter = filter
                .as_ref()
                .map(|f| f.compile(layer, &working_crs))
                .transpose()?;
            let bytes = cut(layer, &working_crs, tile, filter.as_ref())?;
            let bytes: Option<Arc<[u8]>> = bytes.map(Arc::from);
            state.tile_cache().insert(key, bytes.clone());
            Ok(bytes)
        })
        .await?;
    Ok(answer(bytes))
}

async fn tile(
    State(state): State<AppState>,
    Path((id, z, y, x)): Path<(String, String, String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    state.layer(&id)?;
    let tile = tile_id(["tileMatrix", "tileRow", "tileCol"], &z, &y, &x)?;
    layer_tile(state, id, tile, &ctx).await
}

async fn xyz_tile(
    State(state): State<AppState>,
    Path((id, z, x, file)): Path<(String, String, String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    state.layer(&id)?;
    let tile = tile_id(["z", "y", "x"], &z, xyz_row(&file)?, &x)?;
    layer_tile(state, id, tile, &ctx).await
}

/// The catalogue's tile: each layer's tile (cached per layer), one after the other.
async fn whole_tile(state: AppState, tile: TileId, ctx: &Ctx) -> Result<Response, ApiError> {
    ctx.query.check(&NO_PARAMS)?;
    let catalog = state.catalog_arc();
    let mut parts: Vec<Option<Arc<[u8]>>> = Vec::with_capacity(catalog.layers().len());
    let mut missing = Vec::new();
    for (i, layer) in catalog.layers().iter().enumerate() {
        let key = key(&state, layer.id(), tile, "")?;
        match state.tile_cache().get(&key) {
            Some(hit) => parts.push(hit),
            None => {
                parts.push(None);
                missing.push((i, key));
            }
        }
    }
    if !missing.is_empty() {
        let worker = state.clone();
        let cut = worker
            .run_blocking(move || {
                let catalog = state.catalog();
                missing
                    .into_iter()
                    .map(|(i, key)| {
                        let layer = &catalog.layers()[i];
                        let bytes = cut(layer, &catalog.working_crs, tile, None)?;
                        let bytes: Option<Arc<[u8]>> = bytes.map(Arc::from);
                        state.tile_cache().insert(key, bytes.clone());
                        Ok((i, bytes))
                    })
                    .collect::<Result<Vec<_>, ApiError>>()
            })
            .await?;
        for (i, bytes) in cut {
            parts[i] = bytes;
        }
    }
    let present: Vec<&[u8]> = parts.iter().flatten().map(|b| &b[..]).collect();
    if present.is_empty() {
        return Ok(answer(None));
    }
    Ok(answer(Some(Arc::from(tiles::concat(present)))))
}

async fn catalogue_tile(
    State(state): State<AppState>,
    Path((z, y, x)): Path<(String, String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let tile = tile_id(["tileMatrix", "tileRow", "tileCol"], &z, &y, &x)?;
    whole_tile(state, tile, &ctx).await
}

async fn catalogue_xyz_tile(
    State(state): State<AppState>,
    Path((z, x, file)): Path<(String, String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    let tile = tile_id(["z", "y", "x"], &z, xyz_row(&file)?, &x)?;
    whole_tile(state, tile, &ctx).await
}

/// The landing page's links to the tiles of the catalogue and the tile matrix sets.
pub fn landing_links(ctx: &Ctx) -> Vec<Json> {
    vec![
        link(
            ctx.url("/tiles"),
            REL_TILESETS_VECTOR,
            JSON,
            "vector tiles of every collection",
        ),
        link(
            ctx.url("/tileMatrixSets"),
            "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
            JSON,
            "the tile matrix sets",
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// OpenAPI.

/// The schemas of the tileset list, a tileset, TileJSON and the tile matrix set.
pub(super) fn openapi_schemas() -> Vec<(String, Json)> {
    let tilesets = json!({
        "type": "object",
        "required": ["links", "tilesets"],
        "properties": {
            "links": oas::schema_ref("Links"),
            "tilesets": {"type": "array", "items": {
                "type": "object",
                "required": ["dataType", "crs", "tileMatrixSetURI", "links"],
                "properties": {
                    "title": {"type": "string"},
                    "dataType": {"type": "string", "enum": ["vector"]},
                    "crs": {"type": "string"},
                    "tileMatrixSetURI": {"type": "string"},
                    "minZoom": {"type": "integer"},
                    "maxZoom": {"type": "integer"},
                    "layers": {"type": "array", "items": {"type": "object"}},
                    "links": oas::schema_ref("Links"),
                },
            }},
        },
    });
    let tileset = json!({
        "type": "object",
        "required": ["dataType", "crs", "tileMatrixSetURI", "links", "layers"],
        "properties": {
            "title": {"type": "string"},
            "dataType": {"type": "string", "enum": ["vector"]},
            "crs": {"type": "string"},
            "tileMatrixSetURI": {"type": "string"},
            "links": oas::schema_ref("Links"),
            "layers": {"type": "array", "items": {"type": "object",
                "required": ["id", "dataType"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "dataType": {"type": "string"},
                    "geometryDimension": {"type": "integer", "minimum": 0, "maximum": 2},
                    "minTileMatrix": {"type": "string"},
                    "maxTileMatrix": {"type": "string"},
                    "propertiesSchema": {"type": "object"},
                    "links": oas::schema_ref("Links"),
                }}},
            "boundingBox": {"type": "object", "properties": {
                "lowerLeft": {"type": "array", "items": {"type": "number"}},
                "upperRight": {"type": "array", "items": {"type": "number"}},
                "crs": {"type": "string"},
            }},
            "tileMatrixSetLimits": {"type": "array", "items": {"type": "object"}},
        },
    });
    let tilejson = json!({
        "type": "object",
        "required": ["tilejson", "tiles", "vector_layers"],
        "properties": {
            "tilejson": {"type": "string", "enum": ["3.0.0"]},
            "name": {"type": "string"},
            "scheme": {"type": "string", "enum": ["xyz"]},
            "tiles": {"type": "array", "items": {"type": "string"}},
            "minzoom": {"type": "integer"},
            "maxzoom": {"type": "integer"},
            "bounds": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4},
            "center": {"type": "array", "items": {"type": "number"}},
            "vector_layers": {"type": "array", "items": {"type": "object",
                "required": ["id", "fields"],
                "properties": {
                    "id": {"type": "string"},
                    "description": {"type": "string"},
                    "minzoom": {"type": "integer"},
                    "maxzoom": {"type": "integer"},
                    "fields": {"type": "object",
                               "additionalProperties": {"type": "string"}},
                }}},
        },
    });
    let matrix_set = json!({
        "type": "object",
        "required": ["id", "crs", "tileMatrices"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "uri": {"type": "string"},
            "crs": {"type": "string"},
            "orderedAxes": {"type": "array", "items": {"type": "string"}},
            "wellKnownScaleSet": {"type": "string"},
            "links": oas::schema_ref("Links"),
            "tileMatrices": {"type": "array", "items": {"type": "object",
                "required": ["id", "scaleDenominator", "cellSize", "pointOfOrigin",
                             "tileWidth", "tileHeight", "matrixWidth", "matrixHeight"],
                "properties": {
                    "id": {"type": "string"},
                    "scaleDenominator": {"type": "number"},
                    "cellSize": {"type": "number"},
                    "cornerOfOrigin": {"type": "string"},
                    "pointOfOrigin": {"type": "array", "items": {"type": "number"}},
                    "tileWidth": {"type": "integer"},
                    "tileHeight": {"type": "integer"},
                    "matrixWidth": {"type": "integer"},
                    "matrixHeight": {"type": "integer"},
                }}},
        },
    });
    let matrix_sets = json!({
        "type": "object",
        "required": ["tileMatrixSets"],
        "properties": {
            "links": oas::schema_ref("Links"),
            "tileMatrixSets": {"type": "array", "items": {"type": "object",
                "required": ["id", "links"],
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "uri": {"type": "string"},
                    "crs": {"type": "string"},
                    "links": oas::schema_ref("Links"),
                }}},
        },
    });
    vec![
        ("TileSets".into(), tilesets),
        ("TileSet".into(), tileset),
        ("TileJSON".into(), tilejson),
        ("TileMatrixSet".into(), matrix_set),
        ("TileMatrixSets".into(), matrix_sets),
    ]
}

/// A path parameter of a tile, with an example that exists (the zoom 0 tile).
fn tile_index(name: &str, description: &str, maximum: u32) -> Json {
    json!({
        "name": name, "in": "path", "required": true,
        "description": description,
        "schema": {"type": "integer", "minimum": 0, "maximum": maximum},
        "example": 0,
    })
}

/// The `tileMatrixSetId` path parameter.
fn tms_param() -> Json {
    json!({
        "name": "tileMatrixSetId", "in": "path", "required": true,
        "description": "The tile matrix set: WebMercatorQuad.",
        "schema": {"type": "string", "enum": [TMS_ID]},
        "example": TMS_ID,
    })
}

/// The `y` of an XYZ path, `{y}.mvt`.
fn xyz_params() -> Vec<Json> {
    let last = (1u32 << MAX_ZOOM) - 1;
    vec![
        tile_index("z", "The zoom level, 0 to 22.", u32::from(MAX_ZOOM)),
        tile_index("x", "The column, from the west, below 2^z.", last),
        tile_index("y", "The row, from the north, below 2^z.", last),
    ]
}

fn ogc_params() -> Vec<Json> {
    let last = (1u32 << MAX_ZOOM) - 1;
    vec![
        tile_index(
            "tileMatrix",
            "The zoom level, 0 to 22.",
            u32::from(MAX_ZOOM),
        ),
        tile_index(
            "tileRow",
            "The row, from the north, below 2^tileMatrix.",
            last,
        ),
        tile_index(
            "tileCol",
            "The column, from the west, below 2^tileMatrix.",
            last,
        ),
    ]
}

/// A tile operation.
fn tile_operation(
    id: &str,
    summary: &str,
    description: &str,
    tags: &[&str],
    mut parameters: Vec<Json>,
    query: &[Param],
    scope: Scope,
) -> Json {
    parameters.extend(query.iter().map(|p| p.openapi(scope)));
    let op = oas::Get {
        id,
        summary,
        description: Some(description),
        tags,
        parameters,
        ok: oas::ok(
            "the tile",
            vec![(MVT, json!({"type": "string", "format": "binary"}))],
        ),
        errors: oas::Errors::get(false)
            .with(
                400,
                "an unknown or repeated parameter, a filter that does not parse or names an \
                 unknown property, or a tile index that is not a non-negative integer: the \
                 detail names it",
            )
            .with(
                404,
                "no collection with this id, no such tile matrix set, or a tile outside it \
                 (zoom above 22, row or column not below 2^zoom): the detail names the \
                 parameter",
            ),
    };
    let mut op = op.openapi();
    op["responses"]["204"] = json!({
        "description": "the tile has no feature (no body)",
    });
    op
}

/// A JSON metadata operation.
fn json_operation(
    id: &str,
    summary: &str,
    tags: &[&str],
    parameters: Vec<Json>,
    schema: &str,
    not_found: Option<&str>,
) -> Json {
    let mut errors = oas::Errors::get(false);
    if let Some(why) = not_found {
        errors = errors.with(404, why);
    }
    oas::Get {
        id,
        summary,
        description: None,
        tags,
        parameters,
        ok: oas::ok(summary, vec![(JSON, oas::schema_ref(schema))]),
        errors,
    }
    .openapi()
}

const TILE_DESCRIPTION: &str = "A Mapbox Vector Tile (2.1) of the WebMercatorQuad tile matrix \
    set, extent 4096, one layer named after the collection. Geometries are clipped to the tile \
    with a buffer of 64 units, simplified to the tile's resolution; the feature id is the MVT \
    id when it is a non-negative integer, else a property `id`. A tile without features is \
    answered 204.";

/// The OpenAPI path items of a collection's tiles.
pub(super) fn openapi_paths(scope: Scope, layer: &Layer) -> Vec<(String, Json)> {
    let id = layer.id();
    let title = &layer.config.title;
    let tags = [id];
    let list = json_operation(
        &format!("getTileSets_{id}"),
        &format!("The tilesets of {title}"),
        &tags,
        Vec::new(),
        "TileSets",
        Some("no collection with this id"),
    );
    let set = json_operation(
        &format!("getTileSet_{id}"),
        &format!("The WebMercatorQuad tileset of {title}: layer, properties, bounds, limits"),
        &tags,
        Vec::new(),
        "TileSet",
        Some("no collection with this id"),
    );
    let tilejson = json_operation(
        &format!("getTileJSON_{id}"),
        &format!("The tileset of {title} as TileJSON 3.0.0, with its XYZ template"),
        &tags,
        Vec::new(),
        "TileJSON",
        Some("no collection with this id"),
    );
    let tile = tile_operation(
        &format!("getTile_{id}"),
        &format!("A vector tile of {title}"),
        TILE_DESCRIPTION,
        &tags,
        ogc_params(),
        &TILE_PARAMS,
        scope,
    );
    let xyz = tile_operation(
        &format!("getTileXYZ_{id}"),
        &format!("A vector tile of {title}, XYZ order (column before row)"),
        TILE_DESCRIPTION,
        &tags,
        xyz_params(),
        &TILE_PARAMS,
        scope,
    );
    let p = format!("/collections/{id}/tiles");
    vec![
        (p.clone(), json!({"get": list})),
        (format!("{p}/{TMS_ID}"), json!({"get": set})),
        (
            format!("{p}/{TMS_ID}/tilejson.json"),
            json!({"get": tilejson}),
        ),
        (
            format!("{p}/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
            json!({"get": tile}),
        ),
        (format!("{p}/{{z}}/{{x}}/{{y}}.mvt"), json!({"get": xyz})),
    ]
}

/// The OpenAPI path items of the catalogue's tiles and the tile matrix sets.
pub(super) fn openapi_catalogue_paths(scope: Scope) -> Vec<(String, Json)> {
    let tags = ["tiles"];
    let desc = "A Mapbox Vector Tile (2.1) of the WebMercatorQuad tile matrix set with one \
        layer per collection (named after it), each as in the collection's own tiles. A tile \
        without any feature is answered 204.";
    vec![
        (
            "/tileMatrixSets".into(),
            json!({"get": json_operation("getTileMatrixSets", "The tile matrix sets",
                &tags, Vec::new(), "TileMatrixSets", None)}),
        ),
        (
            "/tileMatrixSets/{tileMatrixSetId}".into(),
            json!({"get": json_operation("getTileMatrixSet",
                "A tile matrix set (OGC 2D TMS 2.0 JSON)", &tags, vec![tms_param()],
                "TileMatrixSet", Some("no such tile matrix set"))}),
        ),
        (
            "/tiles".into(),
            json!({"get": json_operation("getCatalogueTileSets",
                "The tilesets of the whole catalogue", &tags, Vec::new(), "TileSets",
                None)}),
        ),
        (
            "/tiles/WebMercatorQuad".into(),
            json!({"get": json_operation("getCatalogueTileSet",
                "The tileset of the whole catalogue: one layer per collection", &tags,
                Vec::new(), "TileSet", None)}),
        ),
        (
            "/tiles/WebMercatorQuad/tilejson.json".into(),
            json!({"get": json_operation("getCatalogueTileJSON",
                "The catalogue's tileset as TileJSON 3.0.0: each collection a vector layer \
                 with its fields", &tags, Vec::new(), "TileJSON", None)}),
        ),
        (
            "/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}".into(),
            json!({"get": tile_operation("getCatalogueTile",
                "A vector tile of the whole catalogue", desc, &tags, ogc_params(),
                &NO_PARAMS, scope)}),
        ),
        (
            "/tiles/{z}/{x}/{y}.mvt".into(),
            json!({"get": tile_operation("getCatalogueTileXYZ",
                "A vector tile of the whole catalogue, XYZ order (column before row)", desc,
                &tags, xyz_params(), &NO_PARAMS, scope)}),
        ),
    ]
}
