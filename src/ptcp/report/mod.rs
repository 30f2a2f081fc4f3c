//! The site report of one project, or of any site: where it sits relative to every PTCP system.
//!
//! For a project of the catalogue's `projects` role ([`site_report`]), or any valid geometry in
//! the working CRS, such as a site a planner draws on a map ([`site_report_for_geometry`]): the
//! municipalities it lies in (with its share in each); the productive areas it lies in or the
//! distance to the nearest one and to the nearest one of supra-municipal interest, and the
//! urban areas it touches; every park, Natura 2000 site, fluvial belt and ecological corridor it
//! overlaps (area, or length for a line) and the nearest of each layer when it touches none; the
//! strategic agricultural land it takes and the agri-food sites within a radius; the distance
//! to the nearest motorway junction, railway station, state road and river port; and to the
//! nearest hospital and nursing home.
//!
//! - [`model`]: what a report says ([`SiteReport`]);
//! - [`build`]: computing it, every part an R-tree query ([`overlay`](crate::analysis::overlay()),
//!   [`nearest`](crate::analysis::nearest()), [`within_distance`](crate::analysis::within_distance()));
//! - [`related`]: the features it mentions, for maps.
//!
//! Numbers are metres and square metres, unrounded; [`crate::present::report`] writes the
//! plain-language summary and the JSON document.
//!
//! Cost: one overlay and one or two nearest queries per role layer, each O(log n + k).

pub mod build;
pub mod model;
pub mod related;

pub use build::{report_with, site_report, site_report_for_geometry};
pub use model::*;
pub use related::{related_features, Related, Relation};

#[cfg(test)]
mod tests;
