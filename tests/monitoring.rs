//! The past and the monitoring over the service (tower `oneshot`): the demo catalogue with a
//! fresh store, into which the demo's monitoring history (`projects_history.jsonl`, eight
//! quarterly rounds from 2025-02-28) is imported on opening. Every test with a store runs
//! twice, with the same body: on the embedded SQLite store and on the PostgreSQL/PostGIS store
//! (`tests/common/stores.rs`); the past is read from either.
//!
//! Expected figures come from replaying that file here, line by line, independently of the
//! store and of `edit::timeline`: a project exists at T when its `create` line is at or before
//! T, and stands as the source feature with every `set` up to T applied.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Map, Value as Json};
use territorio::accounts::{Accounts, AccountsFile, HashCost};
use territorio::api::{app, App, AppState, ServerConfig};

use common::http::{demo_catalog, send, Answer};
use common::stores::{Edits, Kind};

const EDITOR: (&str, &str) = ("anna", "a long editor password");

struct Server {
    app: App,
    _edits: Edits,
}

/// The demo catalogue with edits on (a fresh store of `kind`); `anna` edits the projects.
fn server(kind: Kind) -> Server {
    let edits = Edits::fresh(kind);
    let catalog = (*demo_catalog()).clone();
    let accounts = edits.dir().join("accounts.toml");
    let mut file = AccountsFile::read_or_new(&accounts).unwrap();
    file.add_user(EDITOR.0, EDITOR.1, &["projects".into()], HashCost::MINIMAL)
        .unwrap();
    file.save().unwrap();
    let state = edits.serve(catalog, ServerConfig::default());
    state.set_accounts(Accounts::open(&accounts).unwrap());
    Server {
        app: app(state),
        _edits: edits,
    }
}

/// The demo catalogue without a data folder: no edits, no history.
fn server_without_history() -> App {
    app(AppState::new(demo_catalog(), ServerConfig::default()))
}

async fn get(app: &App, uri: &str) -> Answer {
    send(app.clone(), Request::get(uri).body(Body::empty()).unwrap()).await
}

fn ok_json(a: &Answer) -> Json {
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    a.json()
}

fn detail(a: &Answer) -> String {
    a.json()["detail"].as_str().unwrap_or_default().to_string()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

// ---------------------------------------------------------------------------------------
// The replay, independent of the service.

/// One line of the history file.
struct Line {
    at: String,
    user: String,
    id: String,
    set: Map<String, Json>,
}

fn history() -> Vec<Line> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/data/projects_history.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Json = serde_json::from_str(l).unwrap();
            let at = v["at"].as_str().unwrap().to_string();
            // Every time is written YYYY-MM-DDTHH:MM:SSZ, so text order is time order.
            assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
            Line {
                at,
                user: v["user"].as_str().unwrap().to_string(),
                id: v["id"].as_str().unwrap().to_string(),
                set: v["set"].as_object().unwrap().clone(),
            }
        })
        .collect()
}

/// The source features' properties, by id.
fn source() -> BTreeMap<String, Map<String, Json>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cremona/data/projects.geojson");
    let fc: Json = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["properties"].as_object().unwrap().clone();
            (p["id"].as_str().unwrap().to_string(), p)
        })
        .collect()
}

/// The projects at `until` (RFC 3339, `Z`): each created by then, with every `set` up to then.
fn replay(until: &str) -> BTreeMap<String, Map<String, Json>> {
    let source = source();
    let mut state: BTreeMap<String, Map<String, Json>> = BTreeMap::new();
    for line in history().into_iter().filter(|l| l.at.as_str() <= until) {
        let p = state
            .entry(line.id.clone())
            .or_insert_with(|| source[&line.id].clone());
        for (k, v) in line.set {
            p.insert(k, v);
        }
    }
    state
}

fn number(p: &Map<String, Json>, k: &str) -> f64 {
    p.get(k).and_then(Json::as_f64).unwrap_or(0.0)
}

fn by_status(state: &BTreeMap<String, Map<String, Json>>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in state.values() {
        *out.entry(p["status"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    out
}

fn statuses_of(j: &Json) -> BTreeMap<String, u64> {
    j.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Today (UTC) as (year, month, day), from the system clock.
fn today() -> (i32, u32, u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let text = territorio::time::rfc3339(now);
    (
        text[0..4].parse().unwrap(),
        text[5..7].parse().unwrap(),
        text[8..10].parse().unwrap(),
    )
}

/// The day before `(y, m, d)`, as `YYYY-MM-DD`.
fn day_before((y, m, d): (i32, u32, u32)) -> String {
    let (y, m, d) = match (m, d) {
        (1, 1) => (y - 1, 12, 31),
        (m, 1) => (y, m - 1, days_in_month(y, m - 1)),
        (m, d) => (y, m, d - 1),
    };
    format!("{y:04}-{m:02}-{d:02}")
}

// ---------------------------------------------------------------------------------------

on_both_stores!(the_monitoring_at_an_instant_counts_the_projects_that_existed_then);
async fn the_monitoring_at_an_instant_counts_the_projects_that_existed_then(kind: Kind) {
    let s = server(kind);
    let m = ok_json(&get(&s.app, "/indicators/monitoring?at=2025-03-01").await);
    assert_eq!(m["at"], "2025-03-01T23:59:59Z");
    assert_eq!(m["today"], "2025-03-01");
    let then = replay("2025-03-01T23:59:59Z");
    // The first round created 88 projects; nothing happened between it and March 1st.
    assert_eq!(then.len(), 88);
    assert_eq!(m["total"]["projects"], then.len());
    assert_eq!(statuses_of(&m["total"]["by_status"]), by_status(&then));
    for (field, member) in [
        ("budget_eur", "budget_eur"),
        ("committed_eur", "committed_eur"),
        ("spent_eur", "spent_eur"),
    ] {
        let expected: f64 = then.values().map(|p| number(p, field)).sum();
        let got = m["total"][member].as_f64().unwrap();
        assert!(close(got, expected), "{member}: {got} vs {expected}");
    }
    let progress: Vec<f64> = then.values().map(|p| number(p, "progress_pct")).collect();
    let mean = progress.iter().sum::<f64>() / progress.len() as f64;
    assert!(close(
        m["total"]["progress_mean_pct"].as_f64().unwrap(),
        mean
    ));
    // Per axis.
    let mut per_axis: BTreeMap<String, u64> = BTreeMap::new();
    for p in then.values() {
        *per_axis.entry(p["axis"].to_string()).or_insert(0) += 1;
    }
    let groups: BTreeMap<String, u64> = m["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["group"] == "axis")
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                g["projects"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(groups, per_axis);
    // Late then: not completed and due before 2025-03-01.
    let late: BTreeSet<String> = then
        .iter()
        .filter(|(_, p)| {
            p["status"] != "completed" && p["end_date"].as_str().is_some_and(|e| e < "2025-03-01")
        })
        .map(|(id, _)| id.clone())
        .collect();
    let got: BTreeSet<String> = m["late"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, late);
    assert_eq!(m["total"]["late"], late.len());

    // A date-time at another offset names the same moment of the same day (UTC).
    let m2 = ok_json(
        &get(
            &s.app,
            "/indicators/monitoring?at=2025-03-02T00:59:59%2B01:00",
        )
        .await,
    );
    assert_eq!(m2["at"], "2025-03-01T23:59:59Z");
    assert_eq!(m2["total"], m["total"]);

    // Before the first round: nothing yet.
    let before = ok_json(&get(&s.app, "/indicators/monitoring?at=2025-02-27").await);
    assert_eq!(before["total"]["projects"], 0);
    assert_eq!(before["groups"], json!([]));

    // Now (no at): every project, judged today.
    let now = ok_json(&get(&s.app, "/indicators/monitoring").await);
    assert_eq!(now["total"]["projects"], 150);
    let (y, mo, d) = today();
    assert_eq!(now["today"], format!("{y:04}-{mo:02}-{d:02}"));

    // CSV and HTML.
    let csv = get(&s.app, "/indicators/monitoring?at=2025-03-01&f=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.content_type().starts_with("text/csv"),
        "{}",
        csv.content_type()
    );
    let text = csv.text();
    assert!(
        text.starts_with("group,key,measure,value\ntotal,,projects,88\n"),
        "{text}"
    );
    let page = get(&s.app, "/indicators/monitoring?at=2025-03-01&f=html").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("2025-03-01T23:59:59Z"));
}

on_both_stores!(the_series_has_a_point_per_month_as_the_replay_has_it);
async fn the_series_has_a_point_per_month_as_the_replay_has_it(kind: Kind) {
    let s = server(kind);
    let series = ok_json(&get(&s.app, "/indicators/monitoring/series").await);
    // From the month of the first round to the current month.
    let (y, m, _) = today();
    let mut months = Vec::new();
    let (mut year, mut month) = (2025, 2);
    while (year, month) <= (y, m) {
        months.push((year, month));
        (year, month) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
    }
    let labels: Vec<String> = months
        .iter()
        .map(|(y, m)| format!("{y:04}-{m:02}"))
        .collect();
    assert_eq!(series["months"], json!(labels));
    let total = series["total"].as_array().unwrap();
    assert_eq!(total.len(), months.len());
    for (i, &(year, month)) in months.iter().enumerate() {
        let end = format!(
            "{year:04}-{month:02}-{:02}T23:59:59Z",
            days_in_month(year, month)
        );
        let state = replay(&end);
        let point = &total[i];
        assert_eq!(point["month"], labels[i]);
        assert_eq!(point["projects"], state.len(), "{}", labels[i]);
        assert_eq!(
            statuses_of(&point["by_status"]),
            by_status(&state),
            "{}",
            labels[i]
        );
        let spent: f64 = state.values().map(|p| number(p, "spent_eur")).sum();
        assert!(
            close(point["spent_eur"].as_f64().unwrap(), spent),
            "{}",
            labels[i]
        );
        if i + 1 < months.len() {
            assert_eq!(point["at"], end);
        }
        // The axis series add up to the total, month by month.
        let axes: u64 = series["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["group"] == "axis")
            .map(|g| g["series"][i]["projects"].as_u64().unwrap())
            .sum();
        assert_eq!(axes, state.len() as u64, "{}", labels[i]);
    }
    // Every group has a point for every month.
    for g in series["groups"].as_array().unwrap() {
        assert_eq!(g["series"].as_array().unwrap().len(), months.len(), "{g}");
        assert!(
            ["axis", "emblematic_action", "aqst_programme"].contains(&g["group"].as_str().unwrap())
        );
    }
    // The rounds: February 2025 has the first 88, the last months all 150.
    assert_eq!(total[0]["projects"], 88);
    assert_eq!(total[months.len() - 1]["projects"], 150);
    // Late now: not completed, due before today.
    let today_text = format!("{y:04}-{m:02}-{:02}", today().2);
    let all = replay("9999-12-31T23:59:59Z");
    let late: BTreeSet<String> = all
        .iter()
        .filter(|(_, p)| {
            p["status"] != "completed"
                && p["end_date"]
                    .as_str()
                    .is_some_and(|e| e < today_text.as_str())
        })
        .map(|(id, _)| id.clone())
        .collect();
    let got: BTreeSet<String> = series["late_now"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, late);

    // CSV: month, group, key, measure, value.
    let csv = get(&s.app, "/indicators/monitoring/series?f=csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text();
    assert!(
        text.starts_with("month,group,key,measure,value\n2025-02,total,,projects,88\n"),
        "{}",
        &text[..200.min(text.len())]
    );
    let html = get(&s.app, "/indicators/monitoring/series?f=html").await;
    assert_eq!(html.status, StatusCode::OK);
}

on_both_stores!(an_edit_changes_today_and_not_yesterday);
async fn an_edit_changes_today_and_not_yesterday(kind: Kind) {
    use base64::Engine;
    let s = server(kind);
    let yesterday = day_before(today());
    let indicators_then = |a: &Answer| ok_json(a);
    let today_before = indicators_then(&get(&s.app, "/indicators").await);
    let yesterday_before =
        indicators_then(&get(&s.app, &format!("/indicators?at={yesterday}")).await);
    assert_eq!(yesterday_before["at"], format!("{yesterday}T23:59:59Z"));
    let monitoring_yesterday_before =
        ok_json(&get(&s.app, &format!("/indicators/monitoring?at={yesterday}")).await);
    // P001 (axis 3) completed now.
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", EDITOR.0, EDITOR.1))
    );
    let patched = send(
        s.app.clone(),
        Request::builder()
            .method(Method::PATCH)
            .uri("/collections/projects/items/P001")
            .header("authorization", auth)
            .header("content-type", "application/merge-patch+json")
            .body(Body::from(
                json!({"properties": {"status": "completed", "progress_pct": 100}}).to_string(),
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());

    let axis3 = |j: &Json| -> Json {
        j["progress"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == "axis" && g["key"] == "3")
            .cloned()
            .unwrap()
    };
    let today_after = indicators_then(&get(&s.app, "/indicators").await);
    assert_ne!(axis3(&today_after), axis3(&today_before));
    assert!(
        axis3(&today_after)["by_status"]["completed"].as_u64()
            > axis3(&today_before)["by_status"]["completed"].as_u64()
    );
    // Yesterday stays as it was.
    let yesterday_after =
        indicators_then(&get(&s.app, &format!("/indicators?at={yesterday}")).await);
    assert_eq!(yesterday_after, yesterday_before);
    let monitoring_yesterday_after =
        ok_json(&get(&s.app, &format!("/indicators/monitoring?at={yesterday}")).await);
    assert_eq!(monitoring_yesterday_after, monitoring_yesterday_before);
    // And yesterday's indicators are the replay's: the history ends where the source stands.
    let axis3_then = replay(&format!("{yesterday}T23:59:59Z"))
        .values()
        .filter(|p| p["axis"] == 3)
        .count();
    assert_eq!(axis3(&yesterday_after)["projects"], axis3_then);
    // The monitoring now sees the edit.
    let now = ok_json(&get(&s.app, "/indicators/monitoring").await);
    let completed_now = now["total"]["by_status"]["completed"].as_u64().unwrap();
    let completed_then = monitoring_yesterday_after["total"]["by_status"]["completed"]
        .as_u64()
        .unwrap();
    assert_eq!(completed_now, completed_then + 1);
    // The other representations of the past.
    let csv = get(&s.app, &format!("/indicators?at={yesterday}&f=csv")).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    let geojson = get(&s.app, &format!("/indicators?at={yesterday}&f=geojson")).await;
    let fc = geojson.geojson("http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    assert!(!fc["features"].as_array().unwrap().is_empty());
}

on_both_stores!(a_report_before_the_project_existed_is_a_404);
async fn a_report_before_the_project_existed_is_a_404(kind: Kind) {
    let s = server(kind);
    // A project of the second round (created 2025-05-30), and one of the first.
    let first_round = replay("2025-03-01T23:59:59Z");
    let second_round: Vec<String> = replay("2025-05-31T23:59:59Z")
        .into_keys()
        .filter(|id| !first_round.contains_key(id))
        .collect();
    let later = &second_round[0];
    let early = first_round.keys().next().unwrap();

    let gone = get(&s.app, &format!("/projects/{later}/report?at=2025-03-01")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.text());
    let d = detail(&gone);
    assert!(
        d.contains(later.as_str()) && d.contains("2025-03-01T23:59:59Z"),
        "{d}"
    );

    let there = ok_json(&get(&s.app, &format!("/projects/{later}/report?at=2025-05-30")).await);
    assert_eq!(there["at"], "2025-05-30T23:59:59Z");
    assert_eq!(there["project"]["id"], later.as_str());
    let early_report =
        ok_json(&get(&s.app, &format!("/projects/{early}/report?at=2025-03-01")).await);
    assert_eq!(early_report["project"]["id"], early.as_str());
    // Without at: today's report, without an at member.
    let now = ok_json(&get(&s.app, &format!("/projects/{later}/report")).await);
    assert!(now.get("at").is_none());
    // The GeoJSON and HTML reports of the past.
    let geojson = get(
        &s.app,
        &format!("/projects/{early}/report?at=2025-03-01&f=geojson"),
    )
    .await;
    let fc = geojson.geojson("http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    assert_eq!(fc["at"], "2025-03-01T23:59:59Z");
    let html = get(
        &s.app,
        &format!("/projects/{early}/report?at=2025-03-01&f=html"),
    )
    .await;
    assert_eq!(html.status, StatusCode::OK);
    // The site report of a project subject, at an instant.
    let site = get(
        &s.app,
        &format!("/analysis/report?project={later}&at=2025-03-01"),
    )
    .await;
    assert_eq!(site.status, StatusCode::NOT_FOUND, "{}", site.text());
    let site = ok_json(
        &get(
            &s.app,
            &format!("/analysis/report?project={later}&at=2025-06-01"),
        )
        .await,
    );
    assert_eq!(site["at"], "2025-06-01T23:59:59Z");
}

on_both_stores!(a_malformed_or_future_at_is_a_400_naming_it);
async fn a_malformed_or_future_at_is_a_400_naming_it(kind: Kind) {
    let s = server(kind);
    let (y, m, d) = today();
    let next_year = format!("{:04}-{m:02}-{:02}", y + 1, d.min(28));
    for path in [
        "/indicators",
        "/indicators/monitoring",
        "/projects/P001/report",
        "/analysis/report?project=P001",
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        for (value, says) in [
            ("2025-02-30", "is not a date"),
            ("2025-03-01T10:00:00", "is not a date"),
            ("yesterday", "is not a date"),
            (next_year.as_str(), "in the future"),
            ("2999-01-01T00:00:00Z", "in the future"),
        ] {
            let a = get(&s.app, &format!("{path}{sep}at={value}")).await;
            assert_eq!(
                a.status,
                StatusCode::BAD_REQUEST,
                "{path} {value}: {}",
                a.text()
            );
            let d = detail(&a);
            assert!(
                d.starts_with("parameter at:") && d.contains(says),
                "{path} {value}: {d}"
            );
        }
    }
    // An offset whose + was not encoded gets a hint.
    let a = get(&s.app, "/indicators?at=2025-03-01T10:00:00+01:00").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(detail(&a).contains("%2B"), "{}", detail(&a));
    // An empty at is at left out.
    let a = ok_json(&get(&s.app, "/indicators/monitoring?at=").await);
    assert_eq!(a["total"]["projects"], 150);
}

#[tokio::test]
async fn a_server_without_history_says_so() {
    let app = server_without_history();
    for path in [
        "/indicators?at=2025-03-01",
        "/projects/P001/report?at=2025-03-01",
    ] {
        let a = get(&app, path).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}: {}", a.text());
        assert!(detail(&a).contains("keeps no history"), "{}", detail(&a));
    }
    for path in ["/indicators/monitoring", "/indicators/monitoring/series"] {
        let a = get(&app, path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.text());
        assert!(detail(&a).contains("keeps none"), "{}", detail(&a));
    }
    // Its document does not offer the monitoring; it offers at, saying when it works.
    let doc = ok_json(&get(&app, "/api").await);
    assert!(doc["paths"].get("/indicators/monitoring").is_none());
    let at = doc["paths"]["/indicators"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "at")
        .expect("at is declared");
    assert!(at["description"].as_str().unwrap().contains("history"));
}

on_both_stores!(the_document_of_a_server_with_history_declares_the_monitoring);
async fn the_document_of_a_server_with_history_declares_the_monitoring(kind: Kind) {
    let s = server(kind);
    let doc = ok_json(&get(&s.app, "/api").await);
    for (path, params) in [
        ("/indicators/monitoring", vec!["at", "f"]),
        ("/indicators/monitoring/series", vec!["f"]),
        ("/indicators", vec!["at", "crs", "f"]),
        (
            "/projects/{projectId}/report",
            vec!["agrifood_radius", "at", "crs", "f"],
        ),
    ] {
        let op = &doc["paths"][path]["get"];
        let mut documented: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} is not documented"))
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        documented.sort_unstable();
        assert_eq!(documented, params, "{path}");
        // The reader takes exactly those: an unknown parameter's refusal lists them.
        let concrete = path.replace("{projectId}", "P001");
        let a = get(&s.app, &format!("{concrete}?zz=1")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        let d = detail(&a);
        let listed = d
            .split_once("(parameters: ")
            .unwrap()
            .1
            .trim_end_matches(')');
        let mut reader: Vec<&str> = listed.split(", ").collect();
        reader.sort_unstable();
        assert_eq!(reader, params, "{path}");
        // Every status it answers is declared.
        for status in ["200", "304", "400", "404", "406", "500", "503"] {
            if path == "/indicators" && status == "404" {
                continue;
            }
            assert!(op["responses"][status].is_object(), "{path} lacks {status}");
        }
    }
    let p = doc["paths"]["/indicators/monitoring"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "at")
        .unwrap()
        .clone();
    assert_eq!(p["schema"]["type"], "string");
    assert!(p["schema"]["pattern"].as_str().unwrap().starts_with('^'));
}

on_both_stores!(a_history_lists_the_file_s_lines_and_pages_by_limit_and_offset);
async fn a_history_lists_the_file_s_lines_and_pages_by_limit_and_offset(kind: Kind) {
    let s = server(kind);
    // The project with the most lines in the history file.
    let lines = history();
    let mut per_project: BTreeMap<&str, usize> = BTreeMap::new();
    for l in &lines {
        *per_project.entry(l.id.as_str()).or_insert(0) += 1;
    }
    let (&id, &n) = per_project.iter().max_by_key(|(_, n)| **n).unwrap();
    assert!(n >= 4, "{id} has {n} lines");
    let mine: Vec<&Line> = lines.iter().filter(|l| l.id == id).collect();
    let uri = format!("/collections/projects/items/{id}/history?f=json");
    let all = ok_json(&get(&s.app, &uri).await);
    assert_eq!(all["numberMatched"], n);
    assert_eq!(all["numberReturned"], n);
    let changes = all["changes"].as_array().unwrap();
    for (i, (c, l)) in changes.iter().zip(&mine).enumerate() {
        assert_eq!(c["at"], l.at.as_str(), "change {i}");
        assert_eq!(c["user"], l.user.as_str(), "change {i}");
        assert_eq!(
            c["operation"],
            if i == 0 { "create" } else { "update" },
            "change {i}"
        );
        // What the line sets is what the change's state after holds.
        for (k, v) in &l.set {
            assert_eq!(&c["after"]["properties"][k], v, "change {i}: {k}");
        }
    }
    let seqs: Vec<u64> = changes.iter().map(|c| c["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // A page: limit and offset select that slice of the whole, numberMatched counts all.
    let page = ok_json(&get(&s.app, &format!("{uri}&limit=2&offset=1")).await);
    assert_eq!(page["numberMatched"], n);
    assert_eq!(page["numberReturned"], 2);
    assert_eq!(page["changes"], json!(changes[1..3]));
    let past_the_end = ok_json(&get(&s.app, &format!("{uri}&offset={n}")).await);
    assert_eq!(past_the_end["numberReturned"], 0);
    // The page for people, and the refusals.
    let html = get(
        &s.app,
        &format!("/collections/projects/items/{id}/history?f=html"),
    )
    .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.text().contains(&mine[0].user), "the users are listed");
    let unknown = get(&s.app, "/collections/projects/items/P999/history").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text());
    let read_only = get(&s.app, "/collections/municipalities/items/019036/history").await;
    assert_eq!(
        read_only.status,
        StatusCode::NOT_FOUND,
        "{}",
        read_only.text()
    );
    assert!(
        detail(&read_only).contains("not edited"),
        "{}",
        detail(&read_only)
    );
}
