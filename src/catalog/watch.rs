//! The files a catalogue is read from, and a fingerprint of them, so that a server can see
//! when an office replaces one and reload (`territorio serve --watch`).
//!
//! Polling, not the kernel's change notices: a catalogue names a handful of files, a poll every
//! few seconds costs a `stat` of each and a listing of their folders, and it works the same
//! on a network share, where change notices often do not arrive. A file counts as changed when
//! its size or modification time changes, or when it appears or disappears; the files beside a
//! source that share its name count too (a Shapefile's `.dbf`, `.shx`, `.prj` and `.cpg`, a
//! GeoPackage's `-wal` journal). The caller reloads only once a new fingerprint has been seen
//! twice in a row, so that a file still being copied is not read half-written.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::CatalogConfig;

/// The files `config` is read from: the catalogue file, and each file layer's source and the
/// files beside it that share its name. Not the styles: they are read from disk each time they
/// are asked for, and need no reload. Tables of a database are not files: a change there is
/// not seen (reload them with `SIGHUP` or the admin endpoint).
pub fn files(config: &CatalogConfig) -> Vec<PathBuf> {
    let mut out = vec![config.path.clone()];
    for layer in &config.layers {
        if layer.table.is_none() && !layer.source.as_os_str().is_empty() {
            out.push(layer.source.clone());
            out.extend(companions(&layer.source));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The files beside `source` whose name is its stem followed by `.` or `-` (`zones.dbf`,
/// `zones.gpkg-wal`), itself excluded, and so is SQLite's shared-memory index (`-shm`): it
/// holds no data, and changes whenever a program merely reads a GeoPackage in WAL mode.
fn companions(source: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(stem), Some(name)) = (
        source.parent(),
        source.file_stem().and_then(|s| s.to_str()),
        source.file_name().and_then(|s| s.to_str()),
    ) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let file = e.file_name();
            let file = file.to_str()?;
            let rest = file.strip_prefix(stem)?;
            (file != name
                && (rest.starts_with('.') || rest.starts_with('-'))
                && !file.ends_with("-shm"))
            .then(|| dir.join(file))
        })
        .collect()
}

/// What a file looked like at a poll: its size and modification time, or nothing when it
/// could not be read (missing).
type Seen = Option<(u64, Option<SystemTime>)>;

/// The state of a catalogue's files at one moment (see [`fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(Vec<(PathBuf, Seen)>);

/// The size and modification time of each of `config`'s [`files`].
pub fn fingerprint(config: &CatalogConfig) -> Fingerprint {
    Fingerprint(
        files(config)
            .into_iter()
            .map(|path| {
                let seen = std::fs::metadata(&path)
                    .ok()
                    .map(|m| (m.len(), m.modified().ok()));
                (path, seen)
            })
            .collect(),
    )
}

impl Fingerprint {
    /// The fingerprint of the files of `now` (taken after a reload, whose catalogue may name
    /// other files), each file that `self` saw too as `self` saw it: a file changed while the
    /// reload read it still differs at the next look.
    pub fn carried_onto(&self, now: Fingerprint) -> Fingerprint {
        Fingerprint(
            now.0
                .into_iter()
                .map(
                    |(path, seen)| match self.0.iter().find(|(p, _)| *p == path) {
                        Some((_, before)) => (path, *before),
                        None => (path, seen),
                    },
                )
                .collect(),
        )
    }

    /// The files that differ between `self` and `other` (changed, added or removed), for the
    /// log.
    pub fn changed_since(&self, other: &Fingerprint) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .0
            .iter()
            .filter(|entry| !other.0.contains(entry))
            .map(|(p, _)| p.clone())
            .collect();
        for (p, _) in &other.0 {
            if !self.0.iter().any(|(q, _)| q == p) {
                out.push(p.clone());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(dir: &Path) -> CatalogConfig {
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::create_dir_all(dir.join("styles")).unwrap();
        for f in [
            "zones.shp",
            "zones.dbf",
            "zones.shx",
            "zones.prj",
            "zones_old.dbf",
        ] {
            std::fs::write(dir.join("data").join(f), "x").unwrap();
        }
        std::fs::write(dir.join("data/sites.gpkg"), "x").unwrap();
        std::fs::write(dir.join("data/sites.gpkg-wal"), "x").unwrap();
        std::fs::write(dir.join("data/sites.gpkg-shm"), "x").unwrap();
        std::fs::write(dir.join("styles/z.json"), "{}").unwrap();
        let text = r#"
working_crs = "EPSG:32632"
styles_dir = "styles"
[[layer]]
id = "zones"
title = "Zone"
description = "d"
system = "settlement"
source = "data/zones.shp"
style = "z"
[[layer]]
id = "sites"
title = "Siti"
description = "d"
system = "settlement"
source = "data/sites.gpkg"
"#;
        let path = dir.join("catalog.toml");
        std::fs::write(&path, text).unwrap();
        CatalogConfig::from_file(&path).unwrap()
    }

    #[test]
    fn the_files_are_the_catalogue_the_sources_and_their_companions() {
        let dir = tempfile::tempdir().unwrap();
        let config = catalogue(dir.path());
        let base = config.path.parent().unwrap().to_path_buf();
        let names: Vec<String> = files(&config)
            .iter()
            .map(|p| {
                p.strip_prefix(&base)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        // zones_old.dbf shares the stem's first letters, not the stem: not a companion; nor
        // is the GeoPackage's shared-memory index.
        assert_eq!(
            names,
            [
                "catalog.toml",
                "data/sites.gpkg",
                "data/sites.gpkg-wal",
                "data/zones.dbf",
                "data/zones.prj",
                "data/zones.shp",
                "data/zones.shx",
            ]
        );
    }

    #[test]
    fn a_rewritten_added_or_removed_file_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let config = catalogue(dir.path());
        let first = fingerprint(&config);
        assert_eq!(first, fingerprint(&config), "nothing changed");

        // A longer file: its size differs whatever the clock's resolution.
        let dbf = dir.path().join("data/zones.dbf");
        std::fs::write(&dbf, "xy").unwrap();
        let second = fingerprint(&config);
        assert_eq!(second.changed_since(&first), [dbf]);

        // A Shapefile's .cpg appears; the journal goes.
        let cpg = dir.path().join("data/zones.cpg");
        std::fs::write(&cpg, "UTF-8").unwrap();
        let wal = dir.path().join("data/sites.gpkg-wal");
        std::fs::remove_file(&wal).unwrap();
        let third = fingerprint(&config);
        let mut want = vec![wal, cpg.clone()];
        want.sort();
        assert_eq!(third.changed_since(&second), want);

        // After a reload: the files now named, each as it was before the reload read it.
        std::fs::write(&cpg, "ISO-8859-1").unwrap();
        let carried = third.carried_onto(fingerprint(&config));
        assert_eq!(fingerprint(&config).changed_since(&carried), [cpg]);
    }
}
