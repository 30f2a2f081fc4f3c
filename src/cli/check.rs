//! `territorio check`: loads every layer of a catalogue and reports, per layer, its source,
//! CRS, count, geometry types, extent and fields and each invalid feature; then which layer and
//! fields play each role of the site report and the indicators, saying where `[roles]` names
//! them, where a default layer id was used, and where a role is unbound.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use super::progress_printer;
use crate::catalog::CatalogConfig;
use crate::crs::{self, Transformer, CRS84};
use crate::ptcp::roles::{self, Bound, NAME_FIELD};
use crate::store::{self, LoadEvent};

/// `territorio check`: loads the catalogue and prints a report per layer, then which layer
/// and fields play each role of the site report and the indicators.
pub fn check(path: &Path) -> Result<i32> {
    let started = Instant::now();
    let config = CatalogConfig::from_file(path)?;
    roles::check(&config)?;
    let working = crs::normalize(&config.working_crs);
    crs::check_working_crs(&working)?;
    let to_crs84 = Transformer::new(&working, CRS84)?;
    let progress = progress_printer();
    let total = config.layers.len();
    let mut failures = 0usize;
    let mut invalid_total = 0usize;
    // The fields of each layer that loaded, for the roles.
    let mut loaded: HashMap<String, Vec<String>> = Default::default();
    let mut out = std::io::stdout().lock();
    writeln!(out, "catalogue {} (working CRS {working})", path.display())?;
    for (position, layer_config) in config.layers.iter().enumerate() {
        progress(LoadEvent::Started {
            layer: layer_config.id.clone(),
            position: position + 1,
            total,
        });
        let started_layer = Instant::now();
        let layer = match store::load_layer(layer_config, &working) {
            Ok(l) => l,
            Err(e) => {
                failures += 1;
                writeln!(
                    out,
                    "\nlayer {} ({})\n  ERROR: {e}",
                    layer_config.id, layer_config.system
                )?;
                continue;
            }
        };
        let invalid: Vec<_> = layer.invalid_features().collect();
        progress(LoadEvent::Finished {
            layer: layer.id().to_string(),
            features: layer.features.len(),
            invalid: invalid.len(),
            elapsed: started_layer.elapsed(),
        });
        invalid_total += invalid.len();
        loaded.insert(
            layer.id().to_string(),
            layer.fields.iter().map(|f| f.name.clone()).collect(),
        );
        writeln!(out, "\nlayer {} ({})", layer.id(), layer.config.system)?;
        writeln!(
            out,
            "  source: {} [{}]",
            layer.config.origin().display(),
            layer.driver
        )?;
        writeln!(out, "  source CRS: {}", short_crs(&layer.source_crs))?;
        writeln!(out, "  features: {}", layer.features.len())?;
        let types: Vec<&str> = layer.geometry_types().collect();
        writeln!(out, "  geometry types: {}", types.join(", "))?;
        match layer.extent() {
            Some(e) => {
                let e = to_crs84.bounds(e)?;
                writeln!(
                    out,
                    "  extent (CRS84): {:.6}, {:.6}, {:.6}, {:.6}",
                    e.min().x,
                    e.min().y,
                    e.max().x,
                    e.max().y
                )?;
            }
            None => writeln!(out, "  extent: none")?,
        }
        let fields: Vec<String> = layer
            .fields
            .iter()
            .map(|f| format!("{} ({})", f.name, f.ty.name()))
            .collect();
        writeln!(out, "  fields: {}", fields.join(", "))?;
        writeln!(out, "  invalid geometries: {}", invalid.len())?;
        for f in invalid {
            writeln!(
                out,
                "    feature {}: {}",
                f.id,
                f.invalid.as_deref().unwrap_or_default()
            )?;
        }
    }
    let role_errors = print_roles(&mut out, &config, &loaded)?;
    writeln!(
        out,
        "\n{total} layers, {failures} failed to load, {invalid_total} invalid geometries{} ({:.0} ms{})",
        if role_errors > 0 {
            format!(", {role_errors} role errors")
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64() * 1e3,
        peak_memory_mib()
            .map(|m| format!(", peak memory {m:.0} MiB"))
            .unwrap_or_default()
    )?;
    tracing::info!(
        layers = total,
        failures,
        invalid = invalid_total,
        ms = started.elapsed().as_secs_f64() * 1e3,
        "check finished"
    );
    Ok(if failures > 0 || invalid_total > 0 || role_errors > 0 {
        1
    } else {
        0
    })
}

/// Prints which layer plays each role, and which field each field role reads, saying where a
/// default was used and where a role is unbound, in the order of the table of roles
/// ([`roles::ROLES`]). `loaded` holds the fields of each layer that loaded. Returns the number
/// of errors: fields named in `[roles]` that their layer lacks (the report and the indicators
/// refuse to run with them).
fn print_roles(
    out: &mut impl Write,
    config: &CatalogConfig,
    loaded: &HashMap<String, Vec<String>>,
) -> Result<usize> {
    let exists = |id: &str| config.layer(id).is_some();
    let declared = &config.roles;
    let bindings = roles::bindings(declared, exists);
    writeln!(
        out,
        "\nroles (the layer and fields each part of the site report and the indicators reads; \
         set them in [roles])"
    )?;
    let (mut errors, mut defaults, mut unbound) = (0usize, 0usize, 0usize);
    for b in &bindings {
        let spec = b.role.spec();
        let role = spec.name;
        let layer = match (b.how, &b.layer) {
            (Bound::Named, Some(id)) => {
                writeln!(out, "  {role} -> {id} (named in [roles])")?;
                id
            }
            (Bound::Default, Some(id)) => {
                defaults += 1;
                writeln!(
                    out,
                    "  {role} -> {id} (DEFAULT: [roles] does not name it; bound by the layer id {id:?})"
                )?;
                id
            }
            (Bound::Disabled, _) => {
                writeln!(out, "  {role} -> none ([roles] {role} = \"\")")?;
                continue;
            }
            _ => {
                unbound += 1;
                writeln!(
                    out,
                    "  {role} -> UNBOUND ([roles] does not name it and no layer has the id {:?})",
                    spec.default_layer
                )?;
                continue;
            }
        };
        let fields = loaded.get(layer.as_str());
        let fields_read = std::iter::once(NAME_FIELD).chain(spec.fields.iter().map(|f| *f.spec()));
        for field in fields_read {
            let field_role = field.key;
            let (name, named) = field.name_in(declared);
            let how = if named { "named in [roles]" } else { "default" };
            let state = match fields {
                None => format!("{how}; layer not loaded"),
                Some(f) if f.iter().any(|f| f == name) => how.to_string(),
                Some(_) if named && field_role != NAME_FIELD.key => {
                    errors += 1;
                    format!("ERROR: {how}, but layer {layer:?} has no such field")
                }
                Some(_) if field_role == NAME_FIELD.key => {
                    format!("{how}; layer {layer:?} has no such field: features are named by id")
                }
                Some(_) => format!("{how}; layer {layer:?} has no such field: left out"),
            };
            writeln!(out, "    {field_role}_field = {name:?} ({state})")?;
        }
        if spec.fields.contains(&roles::Field::RoadClass) {
            let (class, named) = roles::state_road_class(declared);
            let how = if named { "named in [roles]" } else { "default" };
            writeln!(out, "    {} = {class:?} ({how})", roles::STATE_ROAD_CLASS.0)?;
        }
        if spec.fields.contains(&roles::Field::ProjectStatus) {
            let (status, named) = roles::completed_status(declared);
            let how = if named { "named in [roles]" } else { "default" };
            writeln!(
                out,
                "    {} = {status:?} ({how})",
                roles::COMPLETED_STATUS.0
            )?;
        }
    }
    if defaults > 0 || unbound > 0 {
        writeln!(
            out,
            "  {defaults} roles bound by default layer ids, {unbound} unbound: name them in [roles] \
             (\"\" for none) to make the binding explicit"
        )?;
    }
    Ok(errors)
}

/// The process's peak resident memory (Linux `VmHWM`), in MiB.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A WKT CRS is long: show its name only.
fn short_crs(crs: &str) -> String {
    if crs.len() < 40 {
        return crs.to_string();
    }
    crs.split('"').nth(1).map_or_else(
        || crs.chars().take(40).collect(),
        |name| format!("{name} (from WKT)"),
    )
}
