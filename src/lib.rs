//! territorio: spatial analysis for territorial planning.
//!
//! It loads the layers of a provincial coordination plan (PTCP) and the geolocated projects of a
//! development pact from the files planners already have, in whatever CRS they come in, indexes
//! them, and answers overlay and proximity questions in metres.
//!
//! The modules follow the data:
//! [`catalog`] (which layers) -> [`source`] (reading through GDAL) -> [`crs`] (PROJ) ->
//! [`validate`] -> [`store`] (features + R-tree, immutable) -> [`analysis`] (generic pure
//! functions: predicates, nearest, overlay, coverage, catchment...) -> [`ptcp`] (the planning
//! rules: roles, site report, indicators) -> [`present`] (the documents and text the CLI and
//! the API both answer) -> [`geojson_io`], [`filter`] (OGC CQL2 filters compiled against a
//! layer's schema), [`tiles`] (vector tiles cut from the store) -> [`api`] (HTTP: OGC API -
//! Features and Tiles) and [`cli`]. Beside the flow,
//! [`accounts`] says who may edit which collection (users, passwords, tokens; no HTTP types).
#![deny(unsafe_code)]

pub mod accounts;
pub mod analysis;
pub mod api;
pub mod catalog;
pub mod cli;
pub mod crs;
pub mod demo;
pub mod edit;
pub mod feature;
pub mod filter;
pub mod geojson_io;
pub mod present;
pub mod ptcp;
pub mod sink;
pub mod source;
pub mod store;
pub mod tiles;
pub mod time;
pub mod validate;
