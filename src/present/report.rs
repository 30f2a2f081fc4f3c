//! The site report for people and documents: one plain-language line per PTCP system, a
//! heading, the text `territorio report` prints, and the JSON document the CLI and the API
//! both answer (the report as it is, with its summary lines).
//!
//! Numbers are rounded here, and only here.

use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::{distance_text, object, percent, thousands, DocumentError};
use crate::ptcp::report::{ProductiveArea, Proximity, SiteReport};

/// One plain-language line of the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryLine {
    pub system: &'static str,
    pub text: String,
}

/// The JSON document of a report: every member of [`SiteReport`] and `summary`, its
/// [`summary`] lines.
///
/// Errors: none in practice (a report is plain data); a serialisation failure is returned, not
/// hidden.
pub fn document(report: &SiteReport) -> Result<Map<String, Json>, DocumentError> {
    let mut doc = object(report)?;
    doc.insert("summary".into(), serde_json::to_value(summary(report))?);
    Ok(doc)
}

/// How much of a feature the project takes: ` for 1,240 m²`, ` for 310 m`, or nothing for a
/// point.
fn amount(area_m2: f64, length_m: f64) -> String {
    if area_m2 > 0.0 {
        format!(" for {} m²", thousands(area_m2))
    } else if length_m > 0.0 {
        format!(" for {} m", thousands(length_m))
    } else {
        String::new()
    }
}

/// One plain-language line per system: settlement, environmental, rural, infrastructure,
/// services.
pub fn summary(report: &SiteReport) -> Vec<SummaryLine> {
    vec![
        SummaryLine {
            system: "settlement",
            text: sentence(settlement(report), "no settlement layer"),
        },
        SummaryLine {
            system: "environmental",
            text: sentence(environmental(report), "no environmental layer"),
        },
        SummaryLine {
            system: "rural",
            text: sentence(rural(report), ""),
        },
        SummaryLine {
            system: "infrastructure",
            text: nearest_line(&report.infrastructure),
        },
        SummaryLine {
            system: "services",
            text: nearest_line(&report.services),
        },
    ]
}

fn settlement(report: &SiteReport) -> Vec<String> {
    let mut s = Vec::new();
    match report.municipalities.as_slice() {
        [] => {}
        [only] => s.push(format!("in {}", only.name)),
        many => s.push(format!(
            "across {}",
            many.iter()
                .map(|m| format!("{} ({})", m.name, percent(m.share)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    let settlement = &report.settlement;
    let areas = &settlement.productive_areas;
    for a in areas.iter().filter(|a| a.contains_project) {
        s.push(format!("inside the {}", productive_area(a)));
    }
    for a in areas.iter().filter(|a| !a.contains_project) {
        s.push(format!(
            "overlaps the {}{}",
            productive_area(a),
            amount(a.area_m2, a.length_m)
        ));
    }
    if areas.is_empty() {
        if let Some(n) = &settlement.nearest_productive_area {
            s.push(format!(
                "outside any productive area: nearest '{}' at {}",
                n.name,
                distance_text(n.distance_m)
            ));
        }
    }
    if !areas.iter().any(|a| a.sovracomunale) {
        if let Some(n) = &settlement.nearest_supra_municipal_area {
            s.push(format!(
                "nearest supra-municipal productive area '{}' at {}",
                n.name,
                distance_text(n.distance_m)
            ));
        }
    }
    if !settlement.urban_areas.is_empty() {
        let names: Vec<&str> = settlement
            .urban_areas
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        s.push(format!("touches the urban area of {}", names.join(", ")));
    }
    s
}

/// `supra-municipal productive area 'Name' (kind, status)`.
fn productive_area(a: &ProductiveArea) -> String {
    format!(
        "{}productive area '{}'{}",
        if a.sovracomunale {
            "supra-municipal "
        } else {
            ""
        },
        a.name,
        match (&a.kind, &a.status) {
            (Some(k), Some(st)) => format!(" ({k}, {st})"),
            (Some(k), None) => format!(" ({k})"),
            (None, Some(st)) => format!(" ({st})"),
            (None, None) => String::new(),
        }
    )
}

fn environmental(report: &SiteReport) -> Vec<String> {
    let mut e = Vec::new();
    let mut untouched = Vec::new();
    for c in &report.environmental {
        let what = c.role.spec().noun;
        for t in &c.touched {
            let verb = if t.area_m2 > 0.0 || t.length_m > 0.0 {
                "crosses"
            } else {
                "lies in"
            };
            e.push(format!(
                "{verb} {what} {}{}",
                t.name,
                amount(t.area_m2, t.length_m)
            ));
        }
        if let Some(n) = &c.nearest {
            untouched.push(format!(
                "{what} {} at {}",
                n.name,
                distance_text(n.distance_m)
            ));
        }
    }
    if !untouched.is_empty() {
        e.push(format!("nearest {}", untouched.join(", ")));
    }
    e
}

fn rural(report: &SiteReport) -> Vec<String> {
    let rural = &report.rural;
    let mut r = Vec::new();
    if rural.agricultural_layer.is_some() {
        r.push(if rural.agricultural_area_m2 > 0.0 {
            format!(
                "takes {} m² of strategic agricultural land ({} of the {})",
                thousands(rural.agricultural_area_m2),
                percent(rural.agricultural_share.unwrap_or(0.0)),
                if report.project.id.is_some() {
                    "project"
                } else {
                    "site"
                }
            )
        } else if rural.agricultural_length_m > 0.0 {
            format!(
                "runs for {} m on strategic agricultural land",
                thousands(rural.agricultural_length_m)
            )
        } else if !rural.agricultural_areas.is_empty() {
            "lies on strategic agricultural land".to_string()
        } else {
            "takes no strategic agricultural land".to_string()
        });
    }
    let radius = distance_text(rural.agrifood_radius_m);
    r.push(match rural.agrifood_sites.as_slice() {
        [] => format!("no agri-food or agro-energy site within {radius}"),
        sites => format!(
            "{} agri-food/agro-energy site{} within {radius} (nearest '{}' at {})",
            sites.len(),
            if sites.len() == 1 { "" } else { "s" },
            sites[0].name,
            distance_text(sites[0].distance_m)
        ),
    });
    r
}

/// `nearest: 1.2 km to a railway station (Name); ...`.
fn nearest_line(list: &[Proximity]) -> String {
    let parts: Vec<String> = list
        .iter()
        .filter_map(|p| {
            p.nearest.as_ref().map(|n| {
                format!(
                    "{} {} ({})",
                    distance_text(n.distance_m),
                    proximity_name(p.what),
                    n.name
                )
            })
        })
        .collect();
    if parts.is_empty() {
        "no layer for this system".to_string()
    } else {
        format!("nearest: {}", parts.join("; "))
    }
}

/// What the report is about: `projects P012: title`, or for a site that is not a project,
/// `site (Polygon, 12,500 m²)`.
pub fn heading(report: &SiteReport) -> String {
    let p = &report.project;
    match (&p.layer, &p.id) {
        (Some(layer), Some(id)) => format!(
            "{layer} {id}{}",
            p.title
                .as_deref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default()
        ),
        _ => {
            let size = if p.area_m2 > 0.0 {
                format!(", {} m²", thousands(p.area_m2))
            } else if p.length_m > 0.0 {
                format!(", {} m", thousands(p.length_m))
            } else {
                String::new()
            };
            format!("site ({}{size})", p.geometry_type)
        }
    }
}

/// The report as text: a header and the summary lines.
pub fn to_text(report: &SiteReport) -> String {
    let mut out = format!("{}\n", heading(report));
    for line in summary(report) {
        out.push_str(&format!("  {}: {}\n", line.system, line.text));
    }
    out
}

fn sentence(parts: Vec<String>, empty: &str) -> String {
    if parts.is_empty() {
        empty.to_string()
    } else {
        parts.join("; ")
    }
}

fn proximity_name(what: &str) -> &'static str {
    match what {
        "motorway_junction" => "to a motorway junction",
        "railway_station" => "to a railway station",
        "state_road" => "to a state road",
        "river_port" => "to the river port",
        "hospital" => "to a hospital",
        "nursing_home" => "to a nursing home",
        _ => "",
    }
}
