//! The HTTP layer under every resource: one way to read a request and one way to answer.
//!
//! - [`state`]: the shared [`AppState`] (catalogue, caches, configuration, the bounded
//!   queue of geometry work) and [`ServerConfig`]; [`workers`]: the threads of geometry work
//!   and their priority;
//! - [`request`]: [`Ctx`], the query, base URL and `Accept` of a request;
//! - [`param`]: the parameters of every resource as declarations ([`Param`]), which both the
//!   reader and the OpenAPI document use, and the rule for empty values;
//! - [`query`]: the one strict parameter reader ([`Query::check`]: unknown or repeated
//!   parameters are a 400 naming them) and the typed parsers (CRS, bbox, datetime, numbers);
//! - [`negotiate`]: content negotiation by `f` and `Accept` over the representations a
//!   resource offers ([`Repr`]);
//! - [`respond`]: JSON, GeoJSON with `Content-Crs`, CSV answers and link objects; [`html`]:
//!   HTML pages;
//! - [`subject`]: the subject of analyses and reports (parameters or a POST body);
//! - [`past`]: the `at` parameter and the catalogue as it stood at a past instant;
//! - [`error`]: [`ApiError`], `application/problem+json`, with `From` impls for the errors of
//!   the layers below;
//! - [`files`]: files served from a folder, never from outside it;
//! - [`middleware`]: conditional GET, one error shape, `OPTIONS`, the security headers of
//!   every answer (`Content-Security-Policy` on HTML);
//! - [`oas`]: the shared pieces of the OpenAPI document (operations, the statuses every
//!   request can get, problem and GeoJSON schemas).
//!
//! Resource modules (`api::collections`, `api::items`, ...) import this layer and never each
//! other; nothing here imports a resource module.

pub mod auth;
pub mod error;
pub mod files;
pub mod html;
pub mod middleware;
pub mod negotiate;
pub mod oas;
pub mod param;
pub mod past;
pub mod query;
pub mod request;
pub mod respond;
pub mod state;
pub mod subject;
pub mod workers;

pub use error::{ApiError, PROBLEM_JSON};
pub use negotiate::Repr;
pub use param::Param;
pub use query::Query;
pub use request::Ctx;
pub use state::{AppState, Live, RegionCache, ServerConfig, WorkingBox, DEFAULT_LIMIT, MAX_LIMIT};
