//! The data of the next scale: 1,000,000 polygon zones (8-30 vertices, some with holes, tiling
//! the province's extent, EPSG:32632) written once to `target/bench-data/zones-1m.gpkg`, with a
//! catalogue over it (`zones-1m.toml`). `scripts/bench-scale` runs this, then measures a
//! server's start time and resident memory on that catalogue (and on the same table in
//! PostGIS). Run alone with `cargo bench --bench scale`; delete the file to write it again.

// The engine benchmarks' generator; this one writes only the 1M zones.
#[allow(dead_code)]
mod synthetic;

use std::path::Path;
use std::time::Instant;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("target/bench-data");
    let zones = dir.join("zones-1m.gpkg");
    if !zones.exists() {
        let started = Instant::now();
        eprintln!("writing {} ...", zones.display());
        synthetic::write_zones(&zones, synthetic::GRID_1M);
        eprintln!("written in {:.1} s", started.elapsed().as_secs_f64());
    }
    let catalog = "working_crs = \"EPSG:32632\"\n\n[[layer]]\nid = \"zones\"\ntitle = \"zones\"\n\
        description = \"synthetic, 1,000,000 zones\"\nsystem = \"settlement\"\n\
        source = \"zones-1m.gpkg\"\nid_field = \"code\"\n";
    std::fs::write(dir.join("zones-1m.toml"), catalog).expect("zones-1m.toml");
    println!("{}", zones.display());
}
