//! The requests QGIS sends when a user edits the projects (OPTIONS on the items and on an
//! item, PATCH of properties only, POST with `Location`, PATCH of the geometry only with
//! `Content-Crs: .../EPSG/0/3003`, PUT, DELETE), replayed against a real `territorio serve`
//! with edits on, then read back with GDAL's OAPIF driver (`ogrinfo`), as another user of the
//! data would. The server's log, at the level that records every request, is then searched for
//! the password, the token and the `Authorization` values: none may appear.
//!
//! Expected values come from what was sent and from PROJ's reference coordinates in the
//! project's STACK notes (EPSG:3003 (1514980, 5034600) is lon 9.1912614, lat 45.4646405... see
//! below), never from the server's answers.
//!
//! Run on both stores (`tests/common/stores.rs`): `--data-dir` (SQLite) and `--edits-db`
//! (PostgreSQL/PostGIS).

mod common;

use std::process::Command;

use common::process::{add_user, basic, Server};
use common::stores::{Edits, Kind};

const PASSWORD: &str = "a long editor password";

fn ogrinfo(args: &[&str]) -> String {
    let out = Command::new("ogrinfo")
        .args(args)
        .env("GDAL_HTTP_MAX_RETRY", "0")
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .expect("ogrinfo is installed by scripts/install-deps");
    assert!(
        out.status.success(),
        "ogrinfo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `name` in an `ogrinfo` feature dump (`  name (Type) = value`).
fn field<'a>(dump: &'a str, name: &str) -> Option<&'a str> {
    dump.lines().find_map(|l| {
        let l = l.trim_start();
        let rest = l.strip_prefix(name)?.strip_prefix(" (")?;
        rest.split_once(") = ").map(|(_, v)| v.trim())
    })
}

on_both_stores!(blocking a_qgis_editing_session_is_read_back_by_gdal_and_no_secret_is_logged);
fn a_qgis_editing_session_is_read_back_by_gdal_and_no_secret_is_logged(kind: Kind) {
    let edits = Edits::fresh(kind);
    let accounts = edits.dir().join("accounts.toml");
    add_user(&accounts, "anna", PASSWORD, &["projects"]);
    let token = {
        let out = Command::new(common::process::binary())
            .args(["accounts", "--file"])
            .arg(&accounts)
            .args(["issue-token", "anna", "--label", "script"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let mut cmd = edits.serve_command(&accounts);
    // Every request logged, as an operator debugging the server would set it.
    cmd.env("TERRITORIO_LOG", "debug");
    let server = Server::start(cmd).expect("the server starts");
    let auth = basic("anna", PASSWORD);
    let bearer = format!("Bearer {token}");
    let items = "/collections/projects/items";
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut h: Vec<(&str, &str)> = vec![("authorization", auth.as_str())];
        h.extend_from_slice(extra);
        h
    };

    let options = server.call("OPTIONS", items, &with(&[]), None);
    assert_eq!(options.status, 204);
    assert!(options.header("allow").unwrap().contains("POST"));
    let options = server.call("OPTIONS", &format!("{items}/P001"), &with(&[]), None);
    assert!(options.header("allow").unwrap().contains("PATCH"));

    let merge = ("content-type", "application/merge-patch+json");
    let r = server.call(
        "PATCH",
        &format!("{items}/P001"),
        &with(&[merge]),
        Some(br#"{"properties":{"status":"in_progress","progress_pct":37}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let created = server.call(
        "POST",
        items,
        &with(&[
            ("content-type", "application/geo+json"),
            ("content-crs", "http://www.opengis.net/def/crs/EPSG/0/3003"),
        ]),
        Some(
            br#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1514980.0,5034600.0]},
               "properties":{"id":null,"axis_name":null,"title":"Letto da GDAL","axis":2,
               "status":"proposed","progress_pct":0,"aqst_programme":"none","budget_eur":1000.5}}"#,
        ),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let location = created.header("location").unwrap().to_string();
    assert!(location.ends_with(&format!("{items}/P151")), "{location}");

    // A point project moved in EPSG:3003, geometry only.
    let point = server
        .get_json(&format!("{items}?limit=1000"))
        .get("features")
        .and_then(|f| f.as_array().cloned())
        .unwrap()
        .into_iter()
        .find(|f| f["geometry"]["type"] == "Point" && f["id"] != "P001")
        .and_then(|f| f["id"].as_str().map(str::to_string))
        .unwrap();
    let r = server.call(
        "PATCH",
        &format!("{items}/{point}"),
        &with(&[
            merge,
            ("content-crs", "http://www.opengis.net/def/crs/EPSG/0/3003"),
        ]),
        Some(br#"{"geometry":{"type":"Point","coordinates":[1514980.0,5034600.0]}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // PUT by a script with its token, DELETE.
    let put = server.call(
        "PUT",
        &format!("{items}/P151"),
        &[
            ("authorization", bearer.as_str()),
            ("content-type", "application/geo+json"),
        ],
        Some(
            br#"{"type":"Feature","geometry":{"type":"Point","coordinates":[9.1912614,45.4645866]},
               "properties":{"title":"Letto da GDAL","axis":2,"status":"design",
               "progress_pct":5,"aqst_programme":"none","budget_eur":1000.5}}"#,
        ),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    let r = server.call("DELETE", &format!("{items}/P150"), &with(&[]), None);
    assert_eq!(r.status, 204, "{}", r.text());

    // GDAL reads the collection as it now is.
    let url = format!("OAPIF:http://{}/", server.addr);
    let summary = ogrinfo(&["-so", &url, "projects"]);
    assert!(summary.contains("Feature Count: 150"), "{summary}"); // 150 + P151 - P150
    let p151 = ogrinfo(&["-q", &url, "projects", "-where", "id = 'P151'"]);
    assert_eq!(field(&p151, "title"), Some("Letto da GDAL"), "{p151:?}");
    assert_eq!(field(&p151, "status"), Some("design"));
    assert_eq!(field(&p151, "progress_pct"), Some("5"));
    assert_eq!(field(&p151, "budget_eur"), Some("1000.5"));
    assert_eq!(field(&p151, "axis_name"), Some("Agroenergia e ambiente"));
    // STACK reference: EPSG:3003 (1514980, 5034600) is lon 9.1912614, lat 45.4645866; GDAL
    // writes the point lon lat.
    assert!(p151.contains("POINT (9.1912614 45.4645866)"), "{p151}");
    let p001 = ogrinfo(&["-q", &url, "projects", "-where", "id = 'P001'"]);
    assert_eq!(field(&p001, "status"), Some("in_progress"));
    assert_eq!(field(&p001, "progress_pct"), Some("37"));
    let moved = ogrinfo(&["-q", &url, "projects", "-where", &format!("id = '{point}'")]);
    assert!(moved.contains("POINT (9.1912614 45.4645866)"), "{moved}");
    let gone = ogrinfo(&["-q", &url, "projects", "-where", "id = 'P150'"]);
    assert!(!gone.contains("OGRFeature"), "{gone}");

    // No secret in the log, although every request above was logged.
    let log = server.log();
    assert!(log.contains("PATCH"), "the requests are in the log");
    for secret in [
        PASSWORD,
        token.as_str(),
        auth.as_str(),
        &auth[6..],
        &token[3..],
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}");
    }
}
