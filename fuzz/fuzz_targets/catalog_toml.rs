//! A catalogue file's text: parsed (`CatalogFile::parse`), written back and parsed again (the
//! round trip its documentation promises, which the demo generator relies on), `[roles]` checked
//! against its layers (`ptcp::roles::check`, `bindings`), and the checks of
//! `CatalogConfig::from_document` (ids, then source files and styles, which do not exist under
//! the fuzz path, so most inputs stop at the first layer's source).
//!
//! Not fuzzed: `working_crs` through GDAL (`crs::check_working_crs`). GDAL reads a CRS
//! definition from a file or a URL named in the string, so fuzzing it would make the fuzzer
//! open files and try the network; the catalogue is the operator's own file, not network input.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use territorio::catalog::{CatalogConfig, CatalogFile};
use territorio::ptcp::roles;
use territorio_fuzz::check_message;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent-territorio-fuzz/catalog.toml");
    let file = match CatalogFile::parse(text, path) {
        Ok(file) => file,
        Err(e) => return check_message(&e),
    };
    let written = file
        .to_toml()
        .unwrap_or_else(|e| panic!("{file:?} cannot be written: {e}"));
    let back = CatalogFile::parse(&written, path)
        .unwrap_or_else(|e| panic!("{file:?} written as {written:?} does not parse: {e}"));
    assert_eq!(back, file, "written as {written:?}");
    let config = CatalogConfig {
        path: path.to_path_buf(),
        working_crs: file.working_crs.clone(),
        styles_dir: file.styles_dir.clone().into(),
        layers: file.layers.clone(),
        roles: file.roles.clone(),
    };
    if let Err(e) = roles::check(&config) {
        check_message(&e);
    }
    let bindings = roles::bindings(&file.roles, |id| config.layer(id).is_some());
    assert!(!bindings.is_empty());
    if let Err(e) = CatalogConfig::from_document(file, path) {
        check_message(&e);
    }
});
