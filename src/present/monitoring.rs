//! The CSV of the monitoring ([`crate::ptcp::indicators::monitoring`]), in long format: one
//! row per value, so that a spreadsheet's pivot table or a plotting library reads it as it is.
//!
//! - the monitoring at one instant: `group,key,measure,value`;
//! - the monitoring series: `month,group,key,measure,value`.
//!
//! `group` is `total` (key empty) for every project, `axis`, `emblematic_action` or
//! `aqst_programme` for a group, and `late` (`late_now` in the series) for a late project,
//! whose key is its id and whose one measure is `days_late`. The measures of a set of projects
//! are `projects`, `by_status/STATUS` (`by_status/` for the projects without a status),
//! `progress_mean_pct`, `progress_weighted_pct`, `budget_eur`, `committed_eur`, `spent_eur` and
//! `late`. A value that does not exist (a mean over no project) is empty.

use super::indicators::csv_field;
use crate::ptcp::indicators::monitoring::{LateProject, Monitoring, Series, Totals};

/// The monitoring at one instant, `group,key,measure,value`.
pub fn csv(m: &Monitoring) -> String {
    let mut out = String::from("group,key,measure,value\n");
    let mut write = |group: &str, key: &str, measure: &str, value: Option<f64>| {
        out.push_str(&row(&[group, key, measure], value));
    };
    rows_of("total", "", &m.total, &mut write);
    for g in &m.groups {
        rows_of(g.group, &g.key, &g.totals, &mut write);
    }
    late_rows("late", &m.late, &mut write);
    out
}

/// The monitoring series, `month,group,key,measure,value`.
pub fn series_csv(s: &Series) -> String {
    let mut out = String::from("month,group,key,measure,value\n");
    for p in &s.total {
        rows_of("total", "", &p.totals, &mut |group, key, measure, value| {
            out.push_str(&row(&[&p.month, group, key, measure], value));
        });
    }
    for g in &s.groups {
        for p in &g.series {
            rows_of(
                g.group,
                &g.key,
                &p.totals,
                &mut |group, key, measure, value| {
                    out.push_str(&row(&[&p.month, group, key, measure], value));
                },
            );
        }
    }
    if let Some(month) = s.months.last() {
        late_rows(
            "late_now",
            &s.late_now,
            &mut |group, key, measure, value| {
                out.push_str(&row(&[month, group, key, measure], value));
            },
        );
    }
    out
}

/// Takes one value: group, key, measure, value.
type Write<'a> = dyn FnMut(&str, &str, &str, Option<f64>) + 'a;

/// One line: the text cells, then the value.
fn row(cells: &[&str], value: Option<f64>) -> String {
    let mut line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
    line.push(value.map(|v| format!("{v}")).unwrap_or_default());
    let mut text = line.join(",");
    text.push('\n');
    text
}

/// The rows of one set of projects.
fn rows_of(group: &str, key: &str, t: &Totals, write: &mut Write) {
    write(group, key, "projects", Some(t.projects as f64));
    for (status, n) in &t.by_status {
        write(group, key, &format!("by_status/{status}"), Some(*n as f64));
    }
    write(group, key, "progress_mean_pct", t.progress_mean_pct);
    write(group, key, "progress_weighted_pct", t.progress_weighted_pct);
    write(group, key, "budget_eur", Some(t.budget_eur));
    write(group, key, "committed_eur", Some(t.committed_eur));
    write(group, key, "spent_eur", Some(t.spent_eur));
    write(group, key, "late", Some(t.late as f64));
}

fn late_rows(group: &str, late: &[LateProject], write: &mut Write) {
    for l in late {
        write(group, &l.id, "days_late", Some(l.days_late as f64));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ptcp::indicators::monitoring::{Group, GroupSeries, SeriesPoint};

    fn totals(projects: usize, mean: Option<f64>) -> Totals {
        Totals {
            projects,
            by_status: BTreeMap::from([("design".to_string(), projects)]),
            progress_mean_pct: mean,
            progress_weighted_pct: mean,
            budget_eur: 1_000.5,
            committed_eur: 10.0,
            spent_eur: 0.0,
            late: 0,
        }
    }

    #[test]
    fn one_row_per_value_with_empty_cells_for_missing_values() {
        let m = Monitoring {
            today: "2026-06-30".into(),
            total: totals(2, Some(12.5)),
            groups: vec![Group {
                group: "emblematic_action",
                key: "Polo, \"A\"".into(),
                totals: totals(0, None),
            }],
            late: vec![LateProject {
                id: "P7".into(),
                title: None,
                end_date: "2026-06-01".into(),
                status: None,
                progress_pct: None,
                days_late: 29,
            }],
        };
        let text = csv(&m);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "group,key,measure,value");
        assert_eq!(lines[1], "total,,projects,2");
        assert_eq!(lines[2], "total,,by_status/design,2");
        assert_eq!(lines[3], "total,,progress_mean_pct,12.5");
        assert_eq!(lines[5], "total,,budget_eur,1000.5");
        // A key with a comma and quotes is quoted; a mean over nothing is empty.
        assert!(text.contains("emblematic_action,\"Polo, \"\"A\"\"\",progress_mean_pct,\n"));
        assert_eq!(*lines.last().unwrap(), "late,P7,days_late,29");
        // 8 rows per set (one status each), one per late project, and the header.
        assert_eq!(lines.len(), 1 + 8 + 8 + 1);
    }

    #[test]
    fn the_series_rows_carry_their_month() {
        let point = |month: &str, n| SeriesPoint {
            month: month.into(),
            at: format!("{month}-28T23:59:59Z"),
            totals: totals(n, Some(1.0)),
        };
        let s = Series {
            months: vec!["2025-02".into(), "2025-03".into()],
            groups: vec![GroupSeries {
                group: "axis",
                key: "3".into(),
                series: vec![point("2025-02", 1), point("2025-03", 4)],
            }],
            total: vec![point("2025-02", 1), point("2025-03", 4)],
            late_now: Vec::new(),
        };
        let text = series_csv(&s);
        assert!(text.starts_with("month,group,key,measure,value\n2025-02,total,,projects,1\n"));
        assert!(text.contains("\n2025-03,axis,3,projects,4\n"));
        assert!(text.contains("\n2025-03,axis,3,by_status/design,4\n"));
        assert_eq!(text.lines().count(), 1 + 4 * 8);
    }
}
