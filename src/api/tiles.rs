//! OGC API - Tiles, vector tiles of a collection: `/collections/{id}/tiles` (the one tileset,
//! WebMercatorQuad, with its link template) and
//! `/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}` (a Mapbox Vector
//! Tile cut by [`crate::tiles::cut`] on the blocking pool; an empty tile is `204 No Content`).
//!
//! `ETag` and `Cache-Control` come from the middleware, per layer generation like every path
//! under `/collections/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value as Json};

use super::http::oas;
use super::http::param::Scope;
use super::http::respond::{self, link};
use super::http::{ApiError, AppState, Ctx, Live, Param, Repr};
use crate::store::Layer;
use crate::tiles::{self, TileError, TileId, MAX_ZOOM};

/// The media type of a Mapbox Vector Tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";

/// The OGC URI of the tile matrix set.
const WEB_MERCATOR_QUAD: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";

pub fn routes() -> Router<Live> {
    Router::new()
        .route("/collections/{id}/tiles", get(tilesets))
        .route(
            "/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}",
            get(tile),
        )
}

/// Tiles take no query parameter.
static TILE_PARAMS: [Param; 0] = [];
/// The tileset list is JSON only.
static LIST_PARAMS: [Param; 0] = [];

/// The path of a collection's tiles, with the OGC template variables.
fn template(id: &str) -> String {
    format!("/collections/{id}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}")
}

async fn tilesets(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&LIST_PARAMS)?;
    let (_, layer) = state.layer(&id)?;
    let path = format!("/collections/{id}/tiles");
    let mut tile_link = link(
        ctx.url(&template(&id)),
        "item",
        MVT,
        &format!("{} as Mapbox Vector Tiles", layer.config.title),
    );
    tile_link["templated"] = json!(true);
    let body = json!({
        "links": [
            link(ctx.url(&path), "self", Repr::Json.media_type(), "tilesets"),
            link(ctx.url(&format!("/collections/{id}")), "collection",
                 Repr::Json.media_type(), &layer.config.title),
        ],
        "tilesets": [{
            "title": format!("{} (WebMercatorQuad)", layer.config.title),
            "dataType": "vector",
            "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
            "tileMatrixSetURI": WEB_MERCATOR_QUAD,
            "minZoom": 0,
            "maxZoom": MAX_ZOOM,
            "layers": [{"id": id, "dataType": "vector"}],
            "links": [tile_link],
        }],
    });
    Ok(respond::json(&body, Repr::Json.media_type()))
}

/// A tile index of the path: an integer, else a 400 naming the parameter.
fn index(name: &str, raw: &str) -> Result<u32, ApiError> {
    raw.parse::<u32>().map_err(|_| {
        ApiError::bad_request(format!(
            "path parameter {name}: {raw:?} is not a non-negative integer"
        ))
    })
}

async fn tile(
    State(state): State<AppState>,
    Path((id, z, y, x)): Path<(String, String, String, String)>,
    ctx: Ctx,
) -> Result<Response, ApiError> {
    ctx.query.check(&TILE_PARAMS)?;
    state.layer(&id)?;
    let (z, y, x) = (
        index("tileMatrix", &z)?,
        index("tileRow", &y)?,
        index("tileCol", &x)?,
    );
    let tile = TileId::new(z, x, y).map_err(|e| {
        let name = match e {
            TileError::Zoom(_) => "tileMatrix",
            TileError::Row { .. } => "tileRow",
            _ => "tileCol",
        };
        ApiError::not_found(format!("path parameter {name}: {e}"))
    })?;
    let worker = state.clone();
    let bytes = worker
        .run_blocking(move || {
            let (_, layer) = state.layer(&id)?;
            tiles::cut(layer, &state.catalog().working_crs, tile)
                .map_err(|e| ApiError::internal(format!("collection {id}, tile {z}/{y}/{x}: {e}")))
        })
        .await?;
    Ok(match bytes {
        Some(bytes) => respond::typed(bytes, MVT),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The schema of the tileset list.
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
    vec![("TileSets".into(), tilesets)]
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

/// The OpenAPI path items of a collection's tiles.
pub(super) fn openapi_paths(scope: Scope, layer: &Layer) -> Vec<(String, Json)> {
    let id = layer.id();
    let title = &layer.config.title;
    let list = oas::Get {
        id: &format!("getTileSets_{id}"),
        summary: &format!("The tilesets of {title}"),
        description: None,
        tags: &[id],
        parameters: LIST_PARAMS.iter().map(|p| p.openapi(scope)).collect(),
        ok: oas::ok(
            "the WebMercatorQuad tileset, with the template of its tiles",
            vec![oas::media(Repr::Json, oas::schema_ref("TileSets"))],
        ),
        errors: oas::Errors::get(false).with(404, "no collection with this id"),
    };
    let last = (1u32 << MAX_ZOOM) - 1;
    let tile = oas::Get {
        id: &format!("getTile_{id}"),
        summary: &format!("A vector tile of {title}"),
        description: Some(
            "A Mapbox Vector Tile (2.1) of the WebMercatorQuad tile matrix set, extent 4096, \
             one layer named after the collection. Geometries are clipped to the tile with a \
             buffer of 64 units, simplified to the tile's resolution; the feature id is the \
             MVT id when it is a non-negative integer, else a property `id`. A tile without \
             features is answered 204.",
        ),
        tags: &[id],
        parameters: vec![
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
        ],
        ok: oas::ok(
            "the tile",
            vec![(MVT, json!({"type": "string", "format": "binary"}))],
        ),
        errors: oas::Errors::get(false)
            .with(
                400,
                "an unknown or repeated parameter, or a tile index that is not a non-negative \
                 integer: the detail names it",
            )
            .with(
                404,
                "no collection with this id, or a tile outside the tile matrix set (zoom above \
                 22, row or column not below 2^zoom): the detail names the parameter",
            ),
    };
    let mut tile = tile.openapi();
    tile["responses"]["204"] = json!({
        "description": "the tile has no feature of the collection (no body)",
    });
    vec![
        (
            format!("/collections/{id}/tiles"),
            json!({"get": list.openapi()}),
        ),
        (
            format!(
                "/collections/{id}/tiles/WebMercatorQuad/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"
            ),
            json!({"get": tile}),
        ),
    ]
}
