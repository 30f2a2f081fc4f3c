//! The schema of the pact's projects layer, which the rows ([`super::projects`]) and their
//! monitoring history ([`super::history`]) both follow: its fields, and a project's statuses.

use crate::feature::FieldType;

/// The statuses of a project, in the order a project goes through them; the last is the one of
/// completed projects (`[roles] completed_status`).
pub const STATUSES: [&str; 5] = ["proposed", "design", "funded", "in_progress", "completed"];

/// The project fields, in order.
pub const FIELDS: &[(&str, FieldType)] = &[
    ("id", FieldType::String),
    ("title", FieldType::String),
    ("axis", FieldType::Int),
    ("axis_name", FieldType::String),
    ("emblematic_action", FieldType::String),
    ("aqst_programme", FieldType::String),
    ("status", FieldType::String),
    ("progress_pct", FieldType::Int),
    ("budget_eur", FieldType::Real),
    ("committed_eur", FieldType::Real),
    ("spent_eur", FieldType::Real),
    ("lead_body", FieldType::String),
    ("municipality", FieldType::String),
    ("start_date", FieldType::Date),
    ("end_date", FieldType::Date),
];
