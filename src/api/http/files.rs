//! Files served from a folder (the web map, MapLibre's `dist/`, the layer styles): a name
//! resolves only to a regular file that really lies inside the folder.
//!
//! The callers already refuse names with separators or a leading dot, but a name is not the
//! whole story: a symbolic link inside the folder (`web/evil.js -> /etc/passwd`, or a style
//! linked to a file elsewhere) would be followed by `std::fs::read`. So the file is resolved
//! with [`std::fs::canonicalize`] (every link followed, `..` removed) and kept only when the
//! result is under the folder's own canonical path. The folder itself may be a link (a
//! `node_modules` shared between checkouts, a styles folder on another disk): it is the
//! boundary, whatever it points at.

use std::path::{Path, PathBuf};

/// The canonical path of `dir/name` when it is a regular file inside `dir` (after following
/// every symbolic link of both); `None` when it is missing, not a regular file, or outside.
///
/// `name` must be a plain file name (callers check it); this is the second line of defence.
/// Blocking: a few `stat` calls per component.
pub fn file_within(dir: &Path, name: &str) -> Option<PathBuf> {
    let root = std::fs::canonicalize(dir).ok()?;
    let file = std::fs::canonicalize(dir.join(name)).ok()?;
    // `starts_with` compares whole components: `/srv/web2/x` is not inside `/srv/web`.
    if file.starts_with(&root) && file != root && file.metadata().ok()?.is_file() {
        Some(file)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_inside_the_folder_resolve() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("web");
        std::fs::create_dir(&dir).unwrap();
        std::fs::create_dir(dir.join("sub.js")).unwrap();
        std::fs::write(dir.join("map.js"), "ok").unwrap();
        std::fs::write(tmp.path().join("secret.js"), "secret").unwrap();
        std::fs::create_dir(tmp.path().join("web2")).unwrap();
        std::fs::write(tmp.path().join("web2/x.js"), "beside").unwrap();

        assert_eq!(
            file_within(&dir, "map.js"),
            Some(dir.canonicalize().unwrap().join("map.js"))
        );
        assert_eq!(file_within(&dir, "missing.js"), None);
        assert_eq!(file_within(&dir, "sub.js"), None, "a folder is not a file");
        assert_eq!(file_within(&dir, "../secret.js"), None);
        assert_eq!(file_within(&dir, "../web2/x.js"), None);
        let absolute = tmp.path().join("secret.js");
        assert_eq!(file_within(&dir, absolute.to_str().unwrap()), None);

        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink(tmp.path().join("secret.js"), dir.join("evil.js")).unwrap();
            symlink("map.js", dir.join("alias.js")).unwrap();
            assert_eq!(
                file_within(&dir, "evil.js"),
                None,
                "a link out of the folder"
            );
            assert!(file_within(&dir, "alias.js").is_some(), "a link within it");
            // The folder itself reached through a link is still the boundary.
            let linked = tmp.path().join("linked");
            symlink(&dir, &linked).unwrap();
            assert!(file_within(&linked, "map.js").is_some());
            assert_eq!(file_within(&linked, "evil.js"), None);
        }
    }
}
