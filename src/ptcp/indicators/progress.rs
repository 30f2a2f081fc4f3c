//! Progress of the pact's projects (stato di avanzamento) per strategic axis, emblematic
//! action, AQST programme and principal municipality: projects by status, total and mean
//! budget, mean progress.
//!
//! Cost: O(p log p) for p projects (grouping).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{mean, Definition, Projects};
use crate::ptcp::roles::{Field, Role, RoleLayers};

pub const PROJECTS: Definition = Definition {
    id: "progress.projects",
    title: "Projects",
    unit: "count",
    definition: "Number of projects in the group (axis, emblematic action, AQST programme, or principal municipality).",
    property: Some("projects"),
};
pub const BY_STATUS: Definition = Definition {
    id: "progress.projects_by_status",
    title: "Projects by status",
    unit: "count",
    definition: "Number of projects in the group with each status.",
    property: None,
};
pub const BUDGET_TOTAL: Definition = Definition {
    id: "progress.budget_total",
    title: "Total budget",
    unit: "EUR",
    definition:
        "Sum of the budgets of the projects in the group (projects without a budget count 0).",
    property: Some("budget_total_eur"),
};
pub const BUDGET_MEAN: Definition = Definition {
    id: "progress.budget_mean",
    title: "Mean budget",
    unit: "EUR",
    definition: "Mean budget of the projects in the group that have one.",
    property: None,
};
pub const PROGRESS_MEAN: Definition = Definition {
    id: "progress.progress_mean",
    title: "Mean progress",
    unit: "%",
    definition: "Mean progress of the projects in the group that report it.",
    property: Some("progress_mean_pct"),
};

/// The family's definitions, in the order of the results.
pub const DEFINITIONS: &[Definition] = &[
    PROJECTS,
    BY_STATUS,
    BUDGET_TOTAL,
    BUDGET_MEAN,
    PROGRESS_MEAN,
];

/// Progress of one group of projects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressGroup {
    /// `axis`, `emblematic_action`, `aqst_programme` or `municipality`.
    pub group: &'static str,
    /// The group's value (empty when the projects leave it blank).
    pub key: String,
    /// A human name for the key (the municipality name), when there is one.
    pub label: Option<String>,
    pub projects: usize,
    pub by_status: BTreeMap<String, usize>,
    pub budget_total_eur: f64,
    pub budget_mean_eur: Option<f64>,
    pub progress_mean_pct: Option<f64>,
}

/// The groups by axis, emblematic action and AQST programme (when the projects have the
/// field) and by principal municipality (when a layer plays the municipalities), each sorted by
/// key.
pub fn progress(roles: &RoleLayers<'_>, projects: &Projects<'_>) -> Vec<ProgressGroup> {
    let p = projects.layer;
    let mut out = Vec::new();
    for (group, field) in [
        ("axis", Some(Field::ProjectAxis)),
        ("emblematic_action", Some(Field::ProjectAction)),
        ("aqst_programme", Some(Field::ProjectAqst)),
        ("municipality", None),
    ] {
        let by_field = field.filter(|&f| p.has(f));
        let municipalities = roles.get(Role::Municipalities);
        let mut groups: BTreeMap<String, (Option<String>, Vec<u32>)> = BTreeMap::new();
        match (field, by_field, municipalities) {
            (Some(_), Some(f), _) => {
                for fact in &projects.facts {
                    let g = groups.entry(p.key(f, fact.index)).or_default();
                    g.1.push(fact.index);
                }
            }
            (None, _, Some(m)) => {
                for fact in &projects.facts {
                    let (key, label) = match fact.municipality {
                        Some(j) => (m.feature(j).id.to_string(), Some(m.name(j))),
                        None => (String::new(), None),
                    };
                    let g = groups.entry(key).or_insert((label, Vec::new()));
                    g.1.push(fact.index);
                }
            }
            _ => continue,
        }
        for (key, (label, members)) in groups {
            let mut by_status = BTreeMap::new();
            for &i in &members {
                *by_status.entry(p.key(Field::ProjectStatus, i)).or_insert(0) += 1;
            }
            let budgets: Vec<f64> = members
                .iter()
                .filter_map(|&i| p.number(Field::ProjectBudget, i))
                .collect();
            let progresses: Vec<f64> = members
                .iter()
                .filter_map(|&i| p.number(Field::ProjectProgress, i))
                .collect();
            out.push(ProgressGroup {
                group,
                key,
                label,
                projects: members.len(),
                by_status,
                budget_total_eur: budgets.iter().sum(),
                budget_mean_eur: mean(&budgets),
                progress_mean_pct: mean(&progresses),
            });
        }
    }
    out
}
