//! Writing vector files through GDAL: the counterpart of [`crate::source`], used by the demo
//! generator and the benchmarks to produce GeoPackages, Shapefiles and GeoJSON in a chosen CRS.
//!
//! Output is deterministic: GeoPackage timestamps come from `OGR_CURRENT_DATE` and Shapefile
//! DBF dates from `DBF_DATE_LAST_UPDATE`, both fixed by [`fixed_dates`], so regenerating the same
//! data gives byte-identical files.

use std::path::{Path, PathBuf};

use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::vector::{Feature, FieldDefn, LayerAccess, LayerOptions, OGRFieldType, ToGdal};
use gdal::{Dataset, DatasetOptions, DriverManager, GdalOpenFlags};
use geo::Geometry;

use crate::feature::{Field, FieldType, Value};

/// The date written into files whose format records one (GeoPackage contents, DBF header).
pub const FIXED_DATE: &str = "2026-01-01";

/// Errors writing a file; each names the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {reason}")]
pub struct WriteError {
    pub path: PathBuf,
    pub reason: String,
}

/// The geometry type a new layer declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerGeometry {
    Point,
    LineString,
    Polygon,
    MultiPoint,
    MultiLineString,
    MultiPolygon,
    /// Mixed types (GeoPackage and GeoJSON only).
    Any,
}

impl LayerGeometry {
    fn ogr(self) -> gdal::vector::OGRwkbGeometryType::Type {
        use gdal::vector::OGRwkbGeometryType as T;
        match self {
            LayerGeometry::Point => T::wkbPoint,
            LayerGeometry::LineString => T::wkbLineString,
            LayerGeometry::Polygon => T::wkbPolygon,
            LayerGeometry::MultiPoint => T::wkbMultiPoint,
            LayerGeometry::MultiLineString => T::wkbMultiLineString,
            LayerGeometry::MultiPolygon => T::wkbMultiPolygon,
            LayerGeometry::Any => T::wkbUnknown,
        }
    }
}

/// A layer to write.
#[derive(Debug, Clone)]
pub struct NewLayer<'a> {
    pub name: &'a str,
    /// CRS of the geometries given (`EPSG:32632`, `EPSG:3003`, `OGC:CRS84`).
    pub crs: &'a str,
    pub geometry: LayerGeometry,
    pub fields: &'a [Field],
    /// Driver-specific layer creation options (`ENCODING=ISO-8859-1`, `RFC7946=YES`...).
    pub options: &'a [&'a str],
}

/// Sets the GDAL configuration that makes written files reproducible. Call once before writing.
pub fn fixed_dates() -> Result<(), WriteError> {
    gdal::config::set_config_option("OGR_CURRENT_DATE", &format!("{FIXED_DATE}T00:00:00Z")).map_err(
        |e| WriteError {
            path: PathBuf::new(),
            reason: e.to_string(),
        },
    )
}

/// Writes one layer with GDAL `driver` (`GPKG`, `ESRI Shapefile`, `GeoJSON`, `FlatGeobuf`).
/// A GeoPackage that already exists gets the layer added; other formats are created anew.
pub fn write_layer(
    path: &Path,
    driver: &str,
    layer: &NewLayer<'_>,
    features: &[(Geometry<f64>, Vec<Value>)],
) -> Result<(), WriteError> {
    let fail = |reason: String| WriteError {
        path: path.to_path_buf(),
        reason,
    };
    let mut dataset = if driver == "GPKG" && path.exists() {
        Dataset::open_ex(
            path,
            DatasetOptions {
                open_flags: GdalOpenFlags::GDAL_OF_UPDATE | GdalOpenFlags::GDAL_OF_VECTOR,
                ..Default::default()
            },
        )
        .map_err(|e| fail(e.to_string()))?
    } else {
        // A Shapefile is several files: replace them all.
        let siblings: &[&str] = if driver == "ESRI Shapefile" {
            &["shp", "shx", "dbf", "prj", "cpg", "qix"]
        } else {
            &[]
        };
        let stale = std::iter::once(path.to_path_buf())
            .chain(siblings.iter().map(|ext| path.with_extension(ext)));
        for file in stale {
            if file.exists() {
                std::fs::remove_file(&file).map_err(|e| fail(e.to_string()))?;
            }
        }
        DriverManager::get_driver_by_name(driver)
            .map_err(|e| fail(e.to_string()))?
            .create_vector_only(path)
            .map_err(|e| fail(e.to_string()))?
    };
    let mut srs = SpatialRef::from_definition(layer.crs).map_err(|e| fail(e.to_string()))?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut options: Vec<String> = layer.options.iter().map(|s| s.to_string()).collect();
    if driver == "ESRI Shapefile" {
        options.push(format!("DBF_DATE_LAST_UPDATE={FIXED_DATE}"));
    }
    let option_refs: Vec<&str> = options.iter().map(String::as_str).collect();
    let transaction = driver == "GPKG";
    if transaction {
        // Dataset-level transaction: one commit for the whole layer.
        let mut txn = dataset
            .start_transaction()
            .map_err(|e| fail(e.to_string()))?;
        fill(&mut txn, layer, &srs, &option_refs, features).map_err(&fail)?;
        txn.commit().map_err(|e| fail(e.to_string()))?;
    } else {
        fill(&mut dataset, layer, &srs, &option_refs, features).map_err(&fail)?;
    }
    dataset.flush_cache().map_err(|e| fail(e.to_string()))?;
    Ok(())
}

fn fill(
    dataset: &mut Dataset,
    layer: &NewLayer<'_>,
    srs: &SpatialRef,
    options: &[&str],
    features: &[(Geometry<f64>, Vec<Value>)],
) -> Result<(), String> {
    let ds_layer = dataset
        .create_layer(LayerOptions {
            name: layer.name,
            srs: Some(srs),
            ty: layer.geometry.ogr(),
            options: Some(options),
        })
        .map_err(|e| e.to_string())?;
    for field in layer.fields {
        let (ty, boolean) = match field.ty {
            FieldType::Bool => (OGRFieldType::OFTInteger, true),
            FieldType::Int => (OGRFieldType::OFTInteger64, false),
            FieldType::Real => (OGRFieldType::OFTReal, false),
            FieldType::String => (OGRFieldType::OFTString, false),
            FieldType::Date => (OGRFieldType::OFTDate, false),
            FieldType::DateTime => (OGRFieldType::OFTDateTime, false),
        };
        if boolean {
            add_boolean_field(&ds_layer, &field.name)?;
        } else {
            let defn = FieldDefn::new(&field.name, ty).map_err(|e| e.to_string())?;
            defn.add_to_layer(&ds_layer).map_err(|e| e.to_string())?;
        }
    }
    for (geometry, values) in features {
        let mut feature = Feature::new(ds_layer.defn()).map_err(|e| e.to_string())?;
        for (i, value) in values.iter().enumerate() {
            match value {
                Value::Null => feature.set_field_null(i),
                Value::Bool(b) => feature.set_field_integer(i, i32::from(*b)),
                Value::Int(v) => feature.set_field_integer64(i, *v),
                Value::Real(v) => feature.set_field_double(i, *v),
                Value::String(s) | Value::Date(s) | Value::DateTime(s) => {
                    feature.set_field_string(i, s)
                }
            }
            .map_err(|e| e.to_string())?;
        }
        feature
            .set_geometry(geometry.to_gdal().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        feature.create(&ds_layer).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Adds an integer field of OGR subtype boolean, which the gdal crate cannot declare.
#[allow(unsafe_code)]
fn add_boolean_field(layer: &gdal::vector::Layer<'_>, name: &str) -> Result<(), String> {
    let c_name = std::ffi::CString::new(name).map_err(|e| e.to_string())?;
    // SAFETY: the field definition is created, used and destroyed here; OGR_L_CreateField copies
    // it into the live layer `layer` owns, and `c_name` outlives the call that reads it.
    unsafe {
        let defn = gdal_sys::OGR_Fld_Create(c_name.as_ptr(), OGRFieldType::OFTInteger);
        if defn.is_null() {
            return Err(format!("cannot create field {name}"));
        }
        gdal_sys::OGR_Fld_SetSubType(defn, gdal_sys::OGRFieldSubType::OFSTBoolean);
        let rv = gdal_sys::OGR_L_CreateField(layer.c_layer(), defn, 1);
        gdal_sys::OGR_Fld_Destroy(defn);
        if rv != gdal_sys::OGRErr::OGRERR_NONE {
            return Err(format!("cannot add boolean field {name} (OGR error {rv})"));
        }
    }
    Ok(())
}
