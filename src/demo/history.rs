//! The monitoring history of the demo projects, `data/projects_history.jsonl`: the changes the
//! pact's Monitoring and Evaluation Unit recorded, round by round, before the service kept the
//! projects layer. The catalogue names it (`[layer.edit] history`), and the service imports it
//! into the layer's change history when the layer's store is first created.
//!
//! # Format
//!
//! JSON Lines (UTF-8, one JSON object per line, each line ended by `\n`), sorted by `at`, no two
//! lines at the same instant:
//!
//! ```text
//! {"at":"2026-02-27T08:00:00Z","user":"monitoraggio.ferrari","id":"P002","op":"create","set":{"status":"design","progress_pct":12,"committed_eur":46828.0,"spent_eur":32420.0}}
//! {"at":"2026-05-29T08:03:00Z","user":"monitoraggio.ferrari","id":"P002","op":"update","set":{"status":"funded","progress_pct":16,"committed_eur":990492.0,"spent_eur":42458.0}}
//! {"at":"2026-08-28T08:00:00Z","user":"monitoraggio.ferrari","id":"P002","op":"update","set":{"progress_pct":22,"spent_eur":44331.0}}
//! ```
//!
//! - `at`: when the change was recorded, RFC 3339 in UTC (`Z`);
//! - `user`: who recorded it;
//! - `id`: the project, by its `id` property (the layer's `id_field`);
//! - `op`: `create` when the project enters the monitoring, `update` afterwards;
//! - `set`: monitored fields and their new values: `status`, `progress_pct` (an integer),
//!   `committed_eur` and `spent_eur` (whole euros, written as reals). A `create` sets all four;
//!   an `update` only those that changed since the project's previous line.
//!
//! # Meaning: what an importer does, and what the file guarantees
//!
//! - A project's first line is its `create`, and it has no other `create`; before it the
//!   project had not entered the monitoring.
//! - The project's state at a line's instant is its feature in `projects.geojson` with the `set`
//!   of that line and of every earlier line of the project applied, in order. What no line sets
//!   (title, axis, budget, dates..., the geometry) is the source's throughout.
//! - After a project's last line its monitored fields are the source's current values, as the
//!   same JSON numbers: replaying the file ends where the source is.
//! - Every project of `projects.geojson` has a history, and every id of the file is a project.
//!
//! Besides, as a monitoring history should: progress and the amounts never decrease, the status
//! never goes back (proposed, design, funded, in_progress, completed), and
//! 0 <= spent <= committed <= budget in every state. `tests/demo.rs` checks all of this on the
//! committed file without this code.
//!
//! # The rounds
//!
//! Eight quarterly rounds, on the last Friday of February, May, August and November of 2025
//! and 2026 ([`ROUNDS`]). The last is the demo's today ([`TODAY`]): the source holds the values
//! of that round. Two officers of the unit record the changes ([`USERS`]), one for axes 1 to 4
//! and one for axes 5 to 8, from 08:00 UTC, three minutes a project (the second starts 90
//! seconds after the first, so no two lines share an instant). A round that changes nothing of
//! a project writes no line for it.
//!
//! Most projects enter at the first round; the others later (proposals keep coming). A
//! project's path ([`track`]) is drawn from its own generator stream (`Rng::monitoring`) and
//! its row (status, budget, planned dates): the row's progress and amounts, written into the
//! source, are the path's last state, and writing this file draws the same paths again.
//!
//! A path follows one number per project, its *stage*, which never decreases: 0 proposed,
//! 0 to 1 design, 1 to 2 funded, 2 to 3 in progress, 3 completed. Progress and the amounts are
//! increasing functions of it (`State::at`):
//! - progress: 0; 2-15 % in design; 15-30 % funded; 30-95 % in progress; 100 % completed;
//! - committed: nothing while proposed; the design (3-8 % of the budget); the works once funded
//!   (82-97 %); 95-100 % at completion (variants);
//! - spent: up to 90 % of the design while designing, then the design; in progress the works'
//!   share done (progress × committed, 75-95 % of it paid); 93-100 % of the budget at
//!   completion.
//!
//! Projects in progress whose planned end has passed stall: their stage stops at the round of
//! their end date (the sixth at the latest), and they are late on the demo's today. A completed
//! project reaches its stage 3 at the first round after its end date.

use serde::Serialize;

use super::project_fields::{FIELDS, STATUSES};
use super::rng::Rng;
use super::{DemoError, Row};
use crate::feature::Value;
use crate::time::{parse_date, rfc3339};

/// The monitoring rounds: the last Friday of each quarter's second month, 2025 and 2026.
pub const ROUNDS: [&str; 8] = [
    "2025-02-28",
    "2025-05-30",
    "2025-08-29",
    "2025-11-28",
    "2026-02-27",
    "2026-05-29",
    "2026-08-28",
    "2026-11-27",
];

/// The demo's today: the last round. The projects' status, progress and amounts are as they
/// stood then, and their planned dates are drawn around it.
pub const TODAY: &str = ROUNDS[ROUNDS.len() - 1];

/// The officers of the monitoring unit: the first records axes 1 to 4, the second 5 to 8.
pub const USERS: [&str; 2] = ["monitoraggio.ferrari", "monitoraggio.galli"];

/// The history file's name in `data/`.
pub const FILE: &str = "projects_history.jsonl";

/// A project's monitored fields at one round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct State {
    /// Index in [`STATUSES`].
    pub status: usize,
    pub progress: i64,
    /// Whole euros.
    pub committed: f64,
    /// Whole euros.
    pub spent: f64,
}

/// A project's amounts, as shares of its budget (see the module documentation).
#[derive(Debug, Clone, Copy)]
struct Costs {
    budget: f64,
    design: f64,
    works: f64,
    done: f64,
    lag: f64,
    paid: f64,
}

impl Costs {
    fn draw(budget: f64, rng: &mut Rng) -> Costs {
        let design = rng.range(0.03, 0.08);
        let works = rng.range(0.82, 0.97);
        let done = (works.max(0.95) + rng.range(0.0, 0.03)).min(1.0);
        let lag = rng.range(0.75, 0.95);
        let paid = rng.range(0.93, done);
        Costs {
            budget,
            design,
            works,
            done,
            lag,
            paid,
        }
    }
}

impl State {
    /// The state of a project at `stage` (0 to 3). Every field is a non-decreasing function of
    /// the stage, and spent <= committed <= budget: the bands of progress and spending of
    /// successive statuses meet (design at 15 % has spent what funding starts from) or are
    /// apart (in progress at most 0.97 × 0.95 × 0.95 < 0.93 of the budget spent).
    fn at(stage: f64, c: &Costs) -> State {
        let (status, progress) = if stage <= 0.0 {
            (0, 0)
        } else if stage <= 1.0 {
            (1, 2 + (13.0 * stage).round() as i64)
        } else if stage <= 2.0 {
            (2, 15 + (15.0 * (stage - 1.0)).round() as i64)
        } else if stage < 3.0 {
            (3, 30 + (65.0 * (stage - 2.0)).round() as i64)
        } else {
            (4, 100)
        };
        let design = c.design * c.budget;
        let works = c.works * c.budget;
        let p = progress as f64;
        let (committed, spent) = match status {
            0 => (0.0, 0.0),
            1 => (design, design * 0.9 * ((p - 2.0) / 13.0)),
            2 => (works, design * (0.9 + 0.1 * (p - 15.0) / 15.0)),
            3 => (works, works * (p / 100.0) * c.lag),
            _ => (c.done * c.budget, c.paid * c.budget),
        };
        State {
            status,
            progress,
            committed: committed.round(),
            spent: spent.round(),
        }
    }
}

/// A project's path through the rounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The round it entered the monitoring at (an index of [`ROUNDS`]).
    pub entry: usize,
    /// Its state at each round from `entry` to the last (never empty).
    pub states: Vec<State>,
}

impl Track {
    /// Its state on the demo's today.
    pub fn last(&self) -> State {
        self.states[self.states.len() - 1]
    }
}

fn spec_error(message: String) -> DemoError {
    DemoError::Spec {
        layer: "projects",
        message,
    }
}

fn day(date: &str) -> Result<i64, DemoError> {
    parse_date(date).ok_or_else(|| spec_error(format!("{date:?} is not a date")))
}

/// Draws the path of the project in row `index`, whose status on the demo's today is
/// `status`, from its budget and planned `start` and `end` dates (`YYYY-MM-DD`). The same
/// arguments give the same path.
pub fn track(
    index: usize,
    status: &str,
    budget: f64,
    start: &str,
    end: &str,
) -> Result<Track, DemoError> {
    let mut rng = Rng::monitoring(index as u64);
    let status = STATUSES
        .iter()
        .position(|s| *s == status)
        .ok_or_else(|| spec_error(format!("unknown status {status:?}")))?;
    let (start, end) = (day(start)?, day(end)?);
    let rounds = ROUNDS
        .iter()
        .map(|r| day(r))
        .collect::<Result<Vec<_>, _>>()?;
    let last = ROUNDS.len() - 1;
    let today = rounds[last];
    let late = status < 4 && end < today;
    // Stage gained per quarter: the works take the planned duration (one stage); design and
    // funding take about two years (two stages).
    let works_pace = 91.0 / (end - start).max(91) as f64;
    let stage = match status {
        0 => 0.0,
        1 => rng.range(0.05, 1.0),
        2 => rng.range(1.05, 2.0),
        3 if late => 2.0 + rng.range(0.25, 0.9),
        3 => {
            let elapsed = ((today - start) as f64 / (end - start).max(1) as f64).clamp(0.0, 1.0);
            2.0 + (elapsed * rng.range(0.7, 1.05)).clamp(0.03, 0.95)
        }
        _ => 3.0,
    };
    let costs = Costs::draw(budget, &mut rng);
    let entry = if status == 0 {
        rng.int(0, last as i64) as usize
    } else if rng.f64() < 0.7 {
        0
    } else {
        rng.int(1, 6) as usize
    };
    // From this round on the stage is the final one: completion, or the stall of a late project.
    let reached = rounds.iter().position(|&r| r >= end).unwrap_or(last);
    let hold = match status {
        4 => reached.max(entry),
        _ if late => reached.min(last - 2).max(entry),
        _ => last,
    };
    let mut stages = [stage; ROUNDS.len()];
    for k in (entry..hold).rev() {
        let next = stages[k + 1];
        stages[k] = if status == 4 && k + 1 == hold {
            // The round before completion: the works nearly done.
            rng.range(2.55, 2.95)
        } else if rng.f64() < 0.2 {
            next
        } else {
            let pace = if next > 2.0 { works_pace } else { 0.25 };
            (next - pace * rng.range(0.4, 1.6)).max(0.0)
        };
    }
    Ok(Track {
        entry,
        states: stages[entry..]
            .iter()
            .map(|&s| State::at(s, &costs))
            .collect(),
    })
}

/// One line of the file.
#[derive(Serialize)]
struct Line<'a> {
    at: String,
    user: &'a str,
    id: &'a str,
    op: &'a str,
    set: Set,
}

/// The fields a line sets, in this order.
#[derive(Serialize, Default, PartialEq)]
struct Set {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress_pct: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    committed_eur: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spent_eur: Option<f64>,
}

impl Set {
    /// What `now` sets after `before` (everything when there is no `before`).
    fn between(before: Option<&State>, now: &State) -> Set {
        let changed = |f: fn(&State) -> f64| before.is_none_or(|b| f(b) != f(now));
        Set {
            status: changed(|s| s.status as f64).then_some(STATUSES[now.status]),
            progress_pct: changed(|s| s.progress as f64).then_some(now.progress),
            committed_eur: changed(|s| s.committed).then_some(now.committed),
            spent_eur: changed(|s| s.spent).then_some(now.spent),
        }
    }
}

/// The history file of the projects' rows (values in [`FIELDS`] order): every path drawn
/// again, checked against the row, and written as lines sorted by time.
pub(super) fn lines(rows: &[Row]) -> Result<String, DemoError> {
    let column = |name: &str| {
        FIELDS
            .iter()
            .position(|(f, _)| *f == name)
            .ok_or_else(|| spec_error(format!("no field {name:?}")))
    };
    let [id, axis, status, progress, budget, committed, spent, start, end] = [
        "id",
        "axis",
        "status",
        "progress_pct",
        "budget_eur",
        "committed_eur",
        "spent_eur",
        "start_date",
        "end_date",
    ]
    .map(column);
    let (id, axis, status, progress) = (id?, axis?, status?, progress?);
    let (budget, committed, spent, start, end) = (budget?, committed?, spent?, start?, end?);
    let rounds = ROUNDS
        .iter()
        .map(|r| day(r))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out: Vec<(i64, String)> = Vec::new();
    // Lines so far in each round by each officer.
    let mut written = [[0i64; USERS.len()]; ROUNDS.len()];
    for (index, (_, values)) in rows.iter().enumerate() {
        static NULL: Value = Value::Null;
        let get = |i: usize| values.get(i).unwrap_or(&NULL);
        let (Value::String(name), Value::Int(a), Value::String(st)) =
            (get(id), get(axis), get(status))
        else {
            return Err(spec_error(format!(
                "row {index}: id, axis or status missing"
            )));
        };
        let (Value::Real(b), Value::Date(from), Value::Date(to)) =
            (get(budget), get(start), get(end))
        else {
            return Err(spec_error(format!("{name}: budget or dates missing")));
        };
        let track = track(index, st, *b, from, to)?;
        let last = track.last();
        let source = (get(progress), get(committed), get(spent));
        if source
            != (
                &Value::Int(last.progress),
                &Value::Real(last.committed),
                &Value::Real(last.spent),
            )
            || STATUSES[last.status] != &**st
        {
            return Err(spec_error(format!(
                "{name}: the monitoring path ends at {last:?}, the row has {st} {source:?}"
            )));
        }
        let officer = usize::from(*a > 4);
        let mut before: Option<&State> = None;
        for (round, state) in (track.entry..).zip(&track.states) {
            let set = Set::between(before, state);
            let op = if before.is_none() { "create" } else { "update" };
            before = Some(state);
            if set == Set::default() {
                continue;
            }
            let n = written[round][officer];
            written[round][officer] += 1;
            let at = rounds[round] * 86_400 + 8 * 3600 + 90 * officer as i64 + 180 * n;
            let line = Line {
                at: rfc3339(at),
                user: USERS[officer],
                id: name,
                op,
                set,
            };
            let text = serde_json::to_string(&line)
                .map_err(|e| spec_error(format!("{name}: history line: {e}")))?;
            out.push((at, text));
        }
    }
    out.sort_by_key(|(at, _)| *at);
    Ok(out.into_iter().map(|(_, l)| l + "\n").collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs() -> Costs {
        Costs {
            budget: 1_000_000.0,
            design: 0.05,
            works: 0.9,
            done: 0.98,
            lag: 0.8,
            paid: 0.95,
        }
    }

    #[test]
    fn a_state_never_decreases_along_the_stage() {
        let c = costs();
        let mut before = State::at(0.0, &c);
        assert_eq!(
            before,
            State {
                status: 0,
                progress: 0,
                committed: 0.0,
                spent: 0.0
            }
        );
        for i in 1..=3000 {
            let now = State::at(f64::from(i) / 1000.0, &c);
            assert!(
                now.status >= before.status
                    && now.progress >= before.progress
                    && now.committed >= before.committed
                    && now.spent >= before.spent,
                "{before:?} -> {now:?}"
            );
            assert!(now.spent <= now.committed && now.committed <= c.budget);
            before = now;
        }
        // Completed: 98 % committed, 95 % spent.
        assert_eq!(
            before,
            State {
                status: 4,
                progress: 100,
                committed: 980_000.0,
                spent: 950_000.0
            }
        );
        // In progress at 50 %: the works committed (900,000), half of them done, 80 % of that
        // paid: 360,000.
        let half = State::at(2.0 + 20.0 / 65.0, &c);
        assert_eq!(
            (half.status, half.progress, half.committed, half.spent),
            (3, 50, 900_000.0, 360_000.0)
        );
    }

    #[test]
    fn rounds_are_dates_and_in_order() {
        let days: Vec<i64> = ROUNDS.iter().map(|r| day(r).unwrap()).collect();
        assert!(days
            .windows(2)
            .all(|w| w[1] - w[0] > 80 && w[1] - w[0] < 100));
        assert_eq!(TODAY, "2026-11-27");
    }

    #[test]
    fn a_path_is_drawn_again_the_same() {
        let a = track(7, "in_progress", 500_000.0, "2022-03-01", "2025-06-28").unwrap();
        let b = track(7, "in_progress", 500_000.0, "2022-03-01", "2025-06-28").unwrap();
        assert_eq!(a, b);
        // Late (ended 2025-06-28): it stalls from the round of 2025-08-29 (index 2) at the
        // latest.
        let held = &a.states[2usize.saturating_sub(a.entry)..];
        assert!(held.iter().all(|s| *s == a.last()), "{a:?}");
        assert_eq!(a.last().status, 3);
    }
}
