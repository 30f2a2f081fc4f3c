//! Monitoring of the pact's projects at one instant, as the Monitoring and Evaluation Unit
//! follows them: per strategic axis, emblematic action and AQST programme, and in total, the
//! projects by status, their mean and budget-weighted progress, their budget and the amounts
//! committed and spent; and the projects late against their planned end date.
//!
//! The projects come as features and their schema rather than as a loaded layer, so one
//! function serves the projects as they are served now ([`monitoring_of`]) and as they stood at
//! any instant of their change history ([`monitoring`]). Their fields are found through
//! `[roles]` ([`RoleFields::bind`]): title, axis, emblematic action, AQST programme, status,
//! budget, progress, committed and spent amounts, planned end date. A grouping field the
//! projects lack leaves its groups out; a missing amount counts 0 in the sums; a missing
//! progress is left out of both progress means.
//!
//! [`series`] gathers the monitoring at many instants (the end of each month) into one series
//! per group, for a chart of the projects over time.
//!
//! A project is *late* when its status is not the completed one (`[roles]`
//! `completed_status`, default `completed`; a project without a status is not completed) and
//! its planned end date is before `today` (a project due today is not late yet). A project
//! without an end date, or with one that is not a date, is never late.
//!
//! ```
//! # use territorio::ptcp::indicators::monitoring::monitoring_of;
//! # fn demo(catalog: &territorio::store::Catalog) -> Result<(), territorio::ptcp::ReportError> {
//! let m = monitoring_of(catalog, "2026-11-27")?;
//! println!("{} of {} projects late", m.total.late, m.total.projects);
//! for g in m.groups.iter().filter(|g| g.group == "axis") {
//!     println!("axis {}: {:.0} of {:.0} EUR spent", g.key, g.totals.spent_eur, g.totals.budget_eur);
//! }
//! # Ok(()) }
//! ```
//!
//! Cost: O(p log p) for p projects (grouping, and sorting the late ones).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::RoleTable;
use crate::feature::{self, Feature, Value};
use crate::ptcp::roles::{completed_status, Field, Role, RoleFields, RoleLayers};
use crate::ptcp::ReportError;
use crate::store::Catalog;
use crate::time::parse_date;

/// The monitoring of the projects at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Monitoring {
    /// The date end dates are compared with (`YYYY-MM-DD`).
    pub today: String,
    /// Every project.
    pub total: Totals,
    /// The groups by `axis`, then `emblematic_action`, then `aqst_programme`, each sorted by
    /// key; a grouping field the projects lack has no groups.
    pub groups: Vec<Group>,
    /// The late projects, the longest overdue first (ties by id).
    pub late: Vec<LateProject>,
}

/// The figures of a set of projects.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Totals {
    pub projects: usize,
    /// Projects per status (`""` for those without one).
    pub by_status: BTreeMap<String, usize>,
    /// Mean progress of the projects that report it, %.
    pub progress_mean_pct: Option<f64>,
    /// Progress weighted by budget over the projects that report both:
    /// Σ(progress × budget) / Σ budget, %; `None` when those budgets add up to nothing.
    pub progress_weighted_pct: Option<f64>,
    /// Sum of the budgets, EUR.
    pub budget_eur: f64,
    /// Sum of the amounts committed, EUR.
    pub committed_eur: f64,
    /// Sum of the amounts spent, EUR.
    pub spent_eur: f64,
    /// Projects late against their planned end date.
    pub late: usize,
}

/// The figures of one group of projects (written flat: `group`, `key`, then the totals).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// `axis`, `emblematic_action` or `aqst_programme`.
    pub group: &'static str,
    /// The group's value (empty for the projects that leave it blank).
    pub key: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// A project late against its planned end date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LateProject {
    pub id: String,
    pub title: Option<String>,
    /// The planned end date, as the project gives it.
    pub end_date: String,
    pub status: Option<String>,
    pub progress_pct: Option<f64>,
    /// Days from the planned end date to `today` (at least 1).
    pub days_late: i64,
}

/// The groupings, in the order their groups are listed.
const GROUPINGS: [(&str, Field); 3] = [
    ("axis", Field::ProjectAxis),
    ("emblematic_action", Field::ProjectAction),
    ("aqst_programme", Field::ProjectAqst),
];

/// What one project contributes.
struct Fact<'f> {
    feature: &'f Feature,
    status: String,
    progress: Option<f64>,
    budget: Option<f64>,
    committed: Option<f64>,
    spent: Option<f64>,
    /// Days late, when late.
    late: Option<i64>,
}

/// Monitors `features`, the projects at one instant, whose fields are `schema`, as `roles`
/// (the catalogue's `[roles]`) names their fields, on date `today` (`YYYY-MM-DD`).
///
/// Errors: `today` is not a date ([`ReportError::BadDate`]); a field named explicitly in
/// `[roles]` is not in `schema` ([`ReportError::UnknownField`]).
pub fn monitoring(
    roles: &RoleTable,
    schema: &[feature::Field],
    features: &[Feature],
    today: &str,
) -> Result<Monitoring, ReportError> {
    let day = parse_date(today).ok_or_else(|| ReportError::BadDate {
        what: "today".to_string(),
        value: today.to_string(),
    })?;
    let layer = match roles.get(Role::Projects.name()) {
        Some(id) if !id.is_empty() => id,
        _ => Role::Projects.spec().default_layer,
    };
    let fields = RoleFields::bind(Role::Projects, roles, layer, schema)?;
    let completed = completed_status(roles).0;
    let facts: Vec<Fact> = features
        .iter()
        .map(|f| {
            let status = fields.key(Field::ProjectStatus, f);
            let end = fields.value(Field::ProjectEnd, f).and_then(date_of);
            let late = end
                .filter(|&end| end < day && status != completed)
                .map(|end| day - end);
            Fact {
                feature: f,
                status,
                progress: fields.number(Field::ProjectProgress, f),
                budget: fields.number(Field::ProjectBudget, f),
                committed: fields.number(Field::ProjectCommitted, f),
                spent: fields.number(Field::ProjectSpent, f),
                late,
            }
        })
        .collect();

    let mut groups = Vec::new();
    for (group, field) in GROUPINGS {
        if !fields.has(field) {
            continue;
        }
        let mut members: BTreeMap<String, Vec<&Fact>> = BTreeMap::new();
        for fact in &facts {
            members
                .entry(fields.key(field, fact.feature))
                .or_default()
                .push(fact);
        }
        groups.extend(members.into_iter().map(|(key, m)| Group {
            group,
            key,
            totals: totals(&m),
        }));
    }

    let mut late: Vec<LateProject> = facts
        .iter()
        .filter_map(|fact| {
            let days_late = fact.late?;
            let f = fact.feature;
            Some(LateProject {
                id: f.id.to_string(),
                title: fields.text(Field::ProjectTitle, f),
                end_date: fields.text(Field::ProjectEnd, f)?,
                status: fields.text(Field::ProjectStatus, f),
                progress_pct: fact.progress,
                days_late,
            })
        })
        .collect();
    late.sort_by(|a, b| b.days_late.cmp(&a.days_late).then_with(|| a.id.cmp(&b.id)));

    Ok(Monitoring {
        today: today.to_string(),
        total: totals(&facts.iter().collect::<Vec<_>>()),
        groups,
        late,
    })
}

/// [`monitoring`] of the layer playing the projects in a loaded catalogue.
///
/// Errors: no layer plays the projects ([`ReportError::MissingRole`]), and those of
/// [`monitoring`].
pub fn monitoring_of(catalog: &Catalog, today: &str) -> Result<Monitoring, ReportError> {
    let roles = RoleLayers::new(catalog)?;
    let projects = roles.require(Role::Projects)?;
    monitoring(
        &catalog.config.roles,
        &projects.layer.fields,
        &projects.layer.features,
        today,
    )
}

/// The projects at one instant of a [`Series`].
#[derive(Debug, Clone, Copy)]
pub struct Moment<'a> {
    /// The month the instant closes (`YYYY-MM`).
    pub month: &'a str,
    /// The instant (RFC 3339).
    pub at: &'a str,
    /// The date lateness is judged on (`YYYY-MM-DD`).
    pub today: &'a str,
    /// The projects as they stood then.
    pub features: &'a [Feature],
}

/// The monitoring month by month: what a chart of the projects over time draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The months, oldest first (`YYYY-MM`).
    pub months: Vec<String>,
    /// Every group that has projects in some month, in the order of [`Monitoring::groups`],
    /// each with one point per month (a month without its projects counts 0 projects).
    pub groups: Vec<GroupSeries>,
    /// Every project, one point per month.
    pub total: Vec<SeriesPoint>,
    /// The projects late at the last instant (the series' "now").
    pub late_now: Vec<LateProject>,
}

/// One group's figures month by month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSeries {
    /// `axis`, `emblematic_action` or `aqst_programme`.
    pub group: &'static str,
    pub key: String,
    pub series: Vec<SeriesPoint>,
}

/// The figures of a set of projects at the end of one month (written flat: `month`, `at`,
/// then the totals).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub month: String,
    /// The instant the figures are taken at (RFC 3339).
    pub at: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// [`monitoring`] of the projects at each of `moments`, gathered into one series per group.
///
/// ```
/// # use territorio::catalog::RoleTable;
/// # use territorio::ptcp::indicators::monitoring::{series, Moment};
/// # fn demo(schema: &[territorio::feature::Field], march: &[territorio::feature::Feature],
/// #         april: &[territorio::feature::Feature]) -> Result<(), territorio::ptcp::ReportError> {
/// let s = series(&RoleTable::default(), schema, &[
///     Moment { month: "2026-03", at: "2026-03-31T23:59:59Z", today: "2026-03-31", features: march },
///     Moment { month: "2026-04", at: "2026-04-30T23:59:59Z", today: "2026-04-30", features: april },
/// ])?;
/// for p in &s.total {
///     println!("{}: {} projects, {:.0} EUR spent", p.month, p.totals.projects, p.totals.spent_eur);
/// }
/// # Ok(()) }
/// ```
///
/// Errors: those of [`monitoring`]. Cost: [`monitoring`] per moment, plus O(g·m) for g groups
/// and m moments.
pub fn series(
    roles: &RoleTable,
    schema: &[feature::Field],
    moments: &[Moment],
) -> Result<Series, ReportError> {
    let each: Vec<Monitoring> = moments
        .iter()
        .map(|m| monitoring(roles, schema, m.features, m.today))
        .collect::<Result<_, _>>()?;
    let rank = |group: &str| GROUPINGS.iter().position(|(g, _)| *g == group);
    // Every group of any month, in the order of the groupings, then by key.
    let mut keys: BTreeMap<(usize, String), &'static str> = BTreeMap::new();
    for m in &each {
        for g in &m.groups {
            keys.insert(
                (rank(g.group).unwrap_or(GROUPINGS.len()), g.key.clone()),
                g.group,
            );
        }
    }
    let by_key: Vec<std::collections::HashMap<(&str, &str), &Totals>> = each
        .iter()
        .map(|m| {
            m.groups
                .iter()
                .map(|g| ((g.group, g.key.as_str()), &g.totals))
                .collect()
        })
        .collect();
    let point = |i: usize, totals: Totals| SeriesPoint {
        month: moments[i].month.to_string(),
        at: moments[i].at.to_string(),
        totals,
    };
    let groups = keys
        .into_iter()
        .map(|((_, key), group)| GroupSeries {
            group,
            series: by_key
                .iter()
                .enumerate()
                .map(|(i, month)| {
                    let totals = month.get(&(group, key.as_str())).copied();
                    point(i, totals.cloned().unwrap_or_default())
                })
                .collect(),
            key,
        })
        .collect();
    Ok(Series {
        months: moments.iter().map(|m| m.month.to_string()).collect(),
        total: each
            .iter()
            .enumerate()
            .map(|(i, m)| point(i, m.total.clone()))
            .collect(),
        late_now: each.last().map(|m| m.late.clone()).unwrap_or_default(),
        groups,
    })
}

fn totals(facts: &[&Fact]) -> Totals {
    let mut t = Totals {
        projects: facts.len(),
        ..Totals::default()
    };
    let (mut progress_sum, mut reporting) = (0.0, 0usize);
    let (mut weighted, mut weights) = (0.0, 0.0);
    for f in facts {
        *t.by_status.entry(f.status.clone()).or_insert(0) += 1;
        if let Some(p) = f.progress {
            progress_sum += p;
            reporting += 1;
            if let Some(b) = f.budget {
                weighted += p * b;
                weights += b;
            }
        }
        t.budget_eur += f.budget.unwrap_or(0.0);
        t.committed_eur += f.committed.unwrap_or(0.0);
        t.spent_eur += f.spent.unwrap_or(0.0);
        t.late += usize::from(f.late.is_some());
    }
    t.progress_mean_pct = (reporting > 0).then(|| progress_sum / reporting as f64);
    t.progress_weighted_pct = (weights > 0.0).then(|| weighted / weights);
    t
}

/// A date value (a date, a date-time's day, or date text) as days since 1970-01-01.
fn date_of(v: &Value) -> Option<i64> {
    match v {
        Value::Date(s) | Value::DateTime(s) | Value::String(s) => parse_date(s.get(..10)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use geo::{Geometry, Point};

    use super::*;
    use crate::feature::{FeatureId, FieldType};

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
    }

    fn schema() -> Vec<feature::Field> {
        use FieldType::*;
        [
            ("title", String),
            ("axis", Int),
            ("emblematic_action", String),
            ("aqst_programme", String),
            ("status", String),
            ("progress_pct", Int),
            ("budget_eur", Real),
            ("committed_eur", Real),
            ("spent_eur", Real),
            ("end_date", Date),
        ]
        .into_iter()
        .map(|(name, ty)| feature::Field {
            name: name.to_string(),
            ty,
        })
        .collect()
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn real(v: f64) -> Value {
        Value::Real(v)
    }

    /// Five projects, judged on 2026-06-30:
    ///
    /// | id | axis | action | AQST        | status      | progress | budget | committed | spent | end        |
    /// |----|------|--------|-------------|-------------|----------|--------|-----------|-------|------------|
    /// | P1 | 1    | A      | primo       | completed   | 100      | 1,000  | 1,000     | 950   | 2025-12-28 |
    /// | P2 | 1    | A      | none        | in_progress | 40       | 3,000  | 2,700     | 900   | 2026-03-28 |
    /// | P3 | 2    | -      | integrativo | design      | 10       | 6,000  | 300       | 0     | 2028-06-28 |
    /// | P4 | 2    | B      | primo       | proposed    | 0        | -      | 0         | 0     | 2026-06-30 |
    /// | P5 | 2    | -      | none        | -           | -        | 2,000  | -         | -     | 2026-01-31 |
    fn projects() -> Vec<Feature> {
        let rows: Vec<(&str, Vec<Value>)> = vec![
            (
                "P1",
                vec![
                    s("Uno"),
                    Value::Int(1),
                    s("A"),
                    s("primo"),
                    s("completed"),
                    Value::Int(100),
                    real(1000.),
                    real(1000.),
                    real(950.),
                    Value::Date("2025-12-28".into()),
                ],
            ),
            (
                "P2",
                vec![
                    s("Due"),
                    Value::Int(1),
                    s("A"),
                    s("none"),
                    s("in_progress"),
                    Value::Int(40),
                    real(3000.),
                    real(2700.),
                    real(900.),
                    Value::Date("2026-03-28".into()),
                ],
            ),
            (
                "P3",
                vec![
                    s("Tre"),
                    Value::Int(2),
                    Value::Null,
                    s("integrativo"),
                    s("design"),
                    Value::Int(10),
                    real(6000.),
                    real(300.),
                    real(0.),
                    Value::Date("2028-06-28".into()),
                ],
            ),
            (
                "P4",
                vec![
                    s("Quattro"),
                    Value::Int(2),
                    s("B"),
                    s("primo"),
                    s("proposed"),
                    Value::Int(0),
                    Value::Null,
                    real(0.),
                    real(0.),
                    Value::Date("2026-06-30".into()),
                ],
            ),
            (
                "P5",
                vec![
                    s("Cinque"),
                    Value::Int(2),
                    Value::Null,
                    s("none"),
                    Value::Null,
                    Value::Null,
                    real(2000.),
                    Value::Null,
                    Value::Null,
                    Value::Date("2026-01-31".into()),
                ],
            ),
        ];
        rows.into_iter()
            .map(|(id, values)| Feature {
                id: FeatureId::Str(id.into()),
                geometry: Geometry::Point(Point::new(0., 0.)),
                values: values.into(),
                invalid: None,
            })
            .collect()
    }

    fn group<'m>(m: &'m Monitoring, group: &str, key: &str) -> &'m Totals {
        &m.groups
            .iter()
            .find(|g| g.group == group && g.key == key)
            .unwrap_or_else(|| panic!("no group {group} {key}"))
            .totals
    }

    fn statuses(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    }

    #[test]
    fn totals_by_hand() {
        let m = monitoring(&RoleTable::default(), &schema(), &projects(), "2026-06-30").unwrap();
        let t = &m.total;
        assert_eq!(t.projects, 5);
        assert_eq!(
            t.by_status,
            statuses(&[
                ("", 1),
                ("completed", 1),
                ("design", 1),
                ("in_progress", 1),
                ("proposed", 1)
            ])
        );
        // P5 reports no progress: (100 + 40 + 10 + 0) / 4.
        assert!(close(t.progress_mean_pct, 37.5));
        // P4 has no budget, P5 no progress: (100·1000 + 40·3000 + 10·6000) / 10,000
        // = 280,000 / 10,000.
        assert!(close(t.progress_weighted_pct, 28.0));
        // 1,000 + 3,000 + 6,000 + 2,000; 1,000 + 2,700 + 300; 950 + 900.
        assert_eq!(
            (t.budget_eur, t.committed_eur, t.spent_eur),
            (12_000.0, 4_000.0, 1_850.0)
        );
        // P2 and P5 (no status: not completed); P1 is completed, P4 is due today.
        assert_eq!(t.late, 2);
    }

    #[test]
    fn groups_by_hand() {
        let m = monitoring(&RoleTable::default(), &schema(), &projects(), "2026-06-30").unwrap();
        let order: Vec<(&str, &str)> = m.groups.iter().map(|g| (g.group, g.key.as_str())).collect();
        assert_eq!(
            order,
            [
                ("axis", "1"),
                ("axis", "2"),
                ("emblematic_action", ""),
                ("emblematic_action", "A"),
                ("emblematic_action", "B"),
                ("aqst_programme", "integrativo"),
                ("aqst_programme", "none"),
                ("aqst_programme", "primo"),
            ]
        );
        // Axis 1: P1 and P2. Mean (100 + 40) / 2; weighted (100·1000 + 40·3000) / 4,000.
        let a1 = group(&m, "axis", "1");
        assert_eq!(a1.projects, 2);
        assert_eq!(
            a1.by_status,
            statuses(&[("completed", 1), ("in_progress", 1)])
        );
        assert!(close(a1.progress_mean_pct, 70.0));
        assert!(close(a1.progress_weighted_pct, 55.0));
        assert_eq!(
            (a1.budget_eur, a1.committed_eur, a1.spent_eur, a1.late),
            (4_000.0, 3_700.0, 1_850.0, 1)
        );
        // Axis 2: P3, P4, P5. Mean (10 + 0) / 2; only P3 has progress and budget.
        let a2 = group(&m, "axis", "2");
        assert_eq!(
            a2.by_status,
            statuses(&[("", 1), ("design", 1), ("proposed", 1)])
        );
        assert!(close(a2.progress_mean_pct, 5.0));
        assert!(close(a2.progress_weighted_pct, 10.0));
        assert_eq!(
            (a2.budget_eur, a2.committed_eur, a2.spent_eur, a2.late),
            (8_000.0, 300.0, 0.0, 1)
        );
        // Action B: P4 alone, without a budget: no weighted progress.
        let b = group(&m, "emblematic_action", "B");
        assert_eq!(b.projects, 1);
        assert!(close(b.progress_mean_pct, 0.0));
        assert_eq!(b.progress_weighted_pct, None);
        assert_eq!((b.budget_eur, b.late), (0.0, 0));
        // No action: P3 and P5 (only P3 reports progress).
        let none = group(&m, "emblematic_action", "");
        assert_eq!(none.projects, 2);
        assert!(close(none.progress_mean_pct, 10.0));
        assert_eq!((none.budget_eur, none.late), (8_000.0, 1));
        // AQST "none": P2 and P5: mean 40 (P5 reports none), weighted 40·3000 / 3,000.
        let n = group(&m, "aqst_programme", "none");
        assert!(close(n.progress_mean_pct, 40.0));
        assert!(close(n.progress_weighted_pct, 40.0));
        assert_eq!(
            (n.budget_eur, n.committed_eur, n.spent_eur, n.late),
            (5_000.0, 2_700.0, 900.0, 2)
        );
        // AQST "primo": P1 and P4: mean (100 + 0) / 2; weighted P1 alone.
        let p = group(&m, "aqst_programme", "primo");
        assert!(close(p.progress_mean_pct, 50.0));
        assert!(close(p.progress_weighted_pct, 100.0));
        assert_eq!(p.late, 0);
    }

    #[test]
    fn late_projects_by_hand() {
        let m = monitoring(&RoleTable::default(), &schema(), &projects(), "2026-06-30").unwrap();
        // P5: 2026-01-31 to 2026-06-30 is 28 (Feb) + 31 + 30 + 31 + 30 = 150 days.
        // P2: 2026-03-28 to 2026-06-30 is 3 (Mar 29-31) + 30 + 31 + 30 = 94 days.
        assert_eq!(
            m.late,
            [
                LateProject {
                    id: "P5".into(),
                    title: Some("Cinque".into()),
                    end_date: "2026-01-31".into(),
                    status: None,
                    progress_pct: None,
                    days_late: 150,
                },
                LateProject {
                    id: "P2".into(),
                    title: Some("Due".into()),
                    end_date: "2026-03-28".into(),
                    status: Some("in_progress".into()),
                    progress_pct: Some(40.0),
                    days_late: 94,
                },
            ]
        );
        // A day later P4 (due 2026-06-30, proposed) is late too, by one day.
        let m = monitoring(&RoleTable::default(), &schema(), &projects(), "2026-07-01").unwrap();
        let ids: Vec<(&str, i64)> = m
            .late
            .iter()
            .map(|l| (l.id.as_str(), l.days_late))
            .collect();
        assert_eq!(ids, [("P5", 151), ("P2", 95), ("P4", 1)]);
    }

    #[test]
    fn the_json_is_flat_per_group() {
        let m = monitoring(&RoleTable::default(), &schema(), &projects(), "2026-06-30").unwrap();
        let j = serde_json::to_value(&m).unwrap();
        assert_eq!(j["today"], "2026-06-30");
        assert_eq!(j["total"]["late"], 2);
        assert_eq!(j["total"]["by_status"]["in_progress"], 1);
        let g = &j["groups"][0];
        assert_eq!((&g["group"], &g["key"]), (&"axis".into(), &"1".into()));
        assert_eq!(g["projects"], 2);
        assert_eq!(g["committed_eur"], 3700.0);
        assert_eq!(j["late"][0]["id"], "P5");
        assert_eq!(j["late"][0]["status"], serde_json::Value::Null);
        assert_eq!(j["late"][1]["days_late"], 94);
    }

    #[test]
    fn roles_rename_fields_and_the_completed_status() {
        // The end date under another name, and completed projects called "concluso": P1 is
        // then not completed, and late by 184 days (3 in December 2025, then
        // 31 + 28 + 31 + 30 + 31 + 30 = 181).
        let mut roles = RoleTable::default();
        roles.set("project_end_field", "fine");
        roles.set("completed_status", "concluso");
        let mut schema = schema();
        schema[9].name = "fine".into();
        let m = monitoring(&roles, &schema, &projects(), "2026-06-30").unwrap();
        assert_eq!(m.total.late, 3);
        assert_eq!((m.late[0].id.as_str(), m.late[0].days_late), ("P1", 184));

        // Named but absent: refused, naming the field.
        let mut roles = RoleTable::default();
        roles.set("project_spent_field", "pagato");
        let e = monitoring(&roles, &self::schema(), &projects(), "2026-06-30").unwrap_err();
        assert_eq!(
            e,
            ReportError::UnknownField {
                role: "projects".into(),
                layer: "projects".into(),
                field: "pagato".into()
            }
        );
        // Left to its default and absent: the sums count 0, no grouping is lost.
        let bare: Vec<feature::Field> = self::schema().into_iter().take(7).collect();
        let m = monitoring(&RoleTable::default(), &bare, &projects(), "2026-06-30").unwrap();
        assert_eq!((m.total.committed_eur, m.total.spent_eur), (0.0, 0.0));
        assert_eq!((m.total.late, m.groups.len()), (0, 8));
    }

    #[test]
    fn a_series_has_every_group_in_every_month() {
        let all = projects();
        // January: P1 and P2 only, judged on 2026-01-31 (P2 is due in March: not late yet).
        // June: the five, judged on 2026-06-30 (as in the tests above).
        let s = series(
            &RoleTable::default(),
            &schema(),
            &[
                Moment {
                    month: "2026-01",
                    at: "2026-01-31T23:59:59Z",
                    today: "2026-01-31",
                    features: &all[..2],
                },
                Moment {
                    month: "2026-06",
                    at: "2026-06-30T12:00:00Z",
                    today: "2026-06-30",
                    features: &all,
                },
            ],
        )
        .unwrap();
        assert_eq!(s.months, ["2026-01", "2026-06"]);
        let projects = |points: &[SeriesPoint]| -> Vec<usize> {
            points.iter().map(|p| p.totals.projects).collect()
        };
        assert_eq!(projects(&s.total), [2, 5]);
        assert_eq!(s.total[1].at, "2026-06-30T12:00:00Z");
        // January: 1,000 + 3,000 budget, no project late; June as in totals_by_hand.
        assert_eq!(
            (s.total[0].totals.budget_eur, s.total[0].totals.late),
            (4_000.0, 0)
        );
        assert_eq!(
            (s.total[1].totals.budget_eur, s.total[1].totals.late),
            (12_000.0, 2)
        );
        // The groups of either month, in the order of one month's monitoring.
        let order: Vec<(&str, &str)> = s.groups.iter().map(|g| (g.group, g.key.as_str())).collect();
        assert_eq!(
            order,
            [
                ("axis", "1"),
                ("axis", "2"),
                ("emblematic_action", ""),
                ("emblematic_action", "A"),
                ("emblematic_action", "B"),
                ("aqst_programme", "integrativo"),
                ("aqst_programme", "none"),
                ("aqst_programme", "primo"),
            ]
        );
        let of = |group: &str, key: &str| {
            &s.groups
                .iter()
                .find(|g| g.group == group && g.key == key)
                .unwrap()
                .series
        };
        // Axis 2 has no project in January: a point with nothing in it.
        let axis2 = of("axis", "2");
        assert_eq!(projects(axis2), [0, 3]);
        assert_eq!(axis2[0].totals, Totals::default());
        assert_eq!(axis2[0].month, "2026-01");
        // Axis 1 is P1 and P2 in both months.
        assert_eq!(projects(of("axis", "1")), [2, 2]);
        assert!(close(of("axis", "1")[0].totals.progress_mean_pct, 70.0));
        assert_eq!(projects(of("aqst_programme", "none")), [1, 2]);
        // Late now: the last month's late projects.
        let late: Vec<&str> = s.late_now.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(late, ["P5", "P2"]);
        // Flat points in JSON.
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["groups"][1]["series"][1]["projects"], 3);
        assert_eq!(j["groups"][1]["series"][0]["month"], "2026-01");
        assert_eq!(j["total"][0]["by_status"]["in_progress"], 1);
        assert_eq!(j["late_now"][0]["days_late"], 150);
    }

    #[test]
    fn today_must_be_a_date() {
        for bad in ["2026-02-30", "30/06/2026", "", "2026-06-30T10:00:00Z"] {
            let e = monitoring(&RoleTable::default(), &schema(), &projects(), bad).unwrap_err();
            assert!(
                matches!(&e, ReportError::BadDate { what, value } if what == "today" && value == bad),
                "{e}"
            );
        }
    }

    #[test]
    fn the_served_layer_of_the_hand_checked_province() {
        // Its projects: P1 design, 10 %, budget 100, axis 1; P2 completed, 30 %, 300, axis 1;
        // P3 design, 50 %, 600, axis 2. No end dates, no amounts, no action or AQST fields.
        let c = crate::store::testing::province();
        let m = monitoring_of(&c, "2026-06-30").unwrap();
        assert_eq!(m.total.projects, 3);
        assert_eq!(
            m.total.by_status,
            statuses(&[("completed", 1), ("design", 2)])
        );
        // (10 + 30 + 50) / 3 and (10·100 + 30·300 + 50·600) / 1,000 = 40,000 / 1,000.
        assert!(close(m.total.progress_mean_pct, 30.0));
        assert!(close(m.total.progress_weighted_pct, 40.0));
        assert_eq!(m.total.budget_eur, 1_000.0);
        let groups: Vec<&str> = m.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(groups, ["1", "2"]);
        assert!(m.late.is_empty());
    }
}
