//! Sources: reading vector data through GDAL (GeoPackage, Shapefile, GeoJSON, FlatGeobuf and
//! every other format GDAL reads, and PostGIS tables: [`postgis`]) into geo-types geometries
//! and typed properties.
//!
//! A source is read whole, in its own CRS; [`crate::store`] reprojects, validates and indexes.
//! Text comes out as UTF-8 whatever the file's encoding: GDAL recodes Shapefile attributes
//! using the `.cpg` file or the DBF language driver id.

pub mod pgcopy;
pub mod postgis;
pub mod wkb;

use std::path::{Path, PathBuf};

use gdal::vector::{FieldValue, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo::{Geometry, GeometryCollection};

use crate::crs;
use crate::feature::{FeatureId, Field, FieldType, Interner, Value};

/// Errors reading a source; each names the file, and GDAL's reason where GDAL gave one.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot open {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("{path} has no layer {layer:?} (it has: {available})")]
    NoLayer {
        path: PathBuf,
        layer: String,
        available: String,
    },
    #[error("{path} has no vector layer")]
    Empty { path: PathBuf },
    #[error("{path} (layer {layer:?}) declares no CRS: set `crs` for this layer in the catalogue")]
    NoCrs { path: PathBuf, layer: String },
    #[error("{path}: CRS cannot be expressed for PROJ: {reason}")]
    Crs { path: PathBuf, reason: String },
    #[error("{path} (layer {layer:?}) has no field {field:?} to use as id (it has: {available})")]
    NoIdField {
        path: PathBuf,
        layer: String,
        field: String,
        available: String,
    },
    #[error("{path}: feature {fid}: {reason}")]
    Feature {
        path: PathBuf,
        fid: String,
        reason: String,
    },
}

/// A feature as read, in the source CRS.
#[derive(Debug, Clone)]
pub struct RawFeature {
    pub id: FeatureId,
    /// The source's own feature number: a GeoPackage's `fid`, a table's integer primary key,
    /// the feature's position where the format has none.
    pub fid: i64,
    pub geometry: Geometry<f64>,
    pub values: Vec<Value>,
    /// A problem found while decoding (missing geometry, unclosed or short ring).
    pub problem: Option<String>,
}

/// A whole layer as read from its source.
#[derive(Debug, Clone)]
pub struct SourceData {
    /// Name of the layer inside the source.
    pub layer_name: String,
    /// GDAL driver that read it (`GPKG`, `ESRI Shapefile`, `GeoJSON`...).
    pub driver: String,
    /// The CRS of the coordinates, as PROJ accepts it (`EPSG:3003`, or WKT when the file's CRS
    /// has no authority code).
    pub crs: String,
    pub fields: Vec<Field>,
    pub features: Vec<RawFeature>,
}

/// What to read from a source.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions<'a> {
    /// Layer inside a multi-layer source; default: the first.
    pub layer: Option<&'a str>,
    /// Property holding the feature id; default: the FID.
    pub id_field: Option<&'a str>,
    /// CRS that overrides the file's own.
    pub crs: Option<&'a str>,
}

/// Reads a whole layer of a vector file.
///
/// Cost: one pass over the file; memory proportional to its features.
pub fn read(path: &Path, options: &ReadOptions<'_>) -> Result<SourceData, SourceError> {
    let open_error = |reason: String| SourceError::Open {
        path: path.to_path_buf(),
        reason,
    };
    if !path.exists() {
        return Err(open_error("no such file".into()));
    }
    let dataset = Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            ..Default::default()
        },
    )
    .map_err(|e| open_error(e.to_string()))?;
    let driver = dataset.driver().short_name();
    let mut layer = match options.layer {
        Some(name) => dataset
            .layer_by_name(name)
            .map_err(|_| SourceError::NoLayer {
                path: path.to_path_buf(),
                layer: name.to_string(),
                available: dataset
                    .layers()
                    .map(|l| l.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?,
        None => {
            if dataset.layer_count() == 0 {
                return Err(SourceError::Empty {
                    path: path.to_path_buf(),
                });
            }
            dataset.layer(0).map_err(|e| open_error(e.to_string()))?
        }
    };
    read_layer(&mut layer, path, driver, options)
}

/// Reads every feature of an open GDAL layer; `path` names the source in errors.
fn read_layer<L: LayerAccess>(
    layer: &mut L,
    path: &Path,
    driver: String,
    options: &ReadOptions<'_>,
) -> Result<SourceData, SourceError> {
    let layer_name = layer.name();

    let crs = match options.crs {
        Some(c) => crs::normalize(c),
        None => {
            let srs = layer.spatial_ref().ok_or_else(|| SourceError::NoCrs {
                path: path.to_path_buf(),
                layer: layer_name.clone(),
            })?;
            crs_of(srs).map_err(|reason| SourceError::Crs {
                path: path.to_path_buf(),
                reason,
            })?
        }
    };

    let fields = schema(layer);
    let id_index = match options.id_field {
        None => None,
        Some(name) => Some(fields.iter().position(|f| f.name == name).ok_or_else(|| {
            SourceError::NoIdField {
                path: path.to_path_buf(),
                layer: layer_name.clone(),
                field: name.to_string(),
                available: fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?),
    };

    // The count comes from the file's header: trust it for a first allocation only up to a
    // point, so a corrupt header cannot ask for gigabytes.
    let expected = usize::try_from(layer.feature_count())
        .unwrap_or(0)
        .min(1 << 20);
    let mut features = Vec::with_capacity(expected);
    // One per field: a field of names, all different, fills its own table, not the others'.
    let mut interners: Vec<Interner> = fields.iter().map(|_| Interner::default()).collect();
    for (ordinal, feature) in layer.features().enumerate() {
        let fid = feature.fid().map(|f| f as i64).unwrap_or(ordinal as i64);
        let feature_error = |reason: String| SourceError::Feature {
            path: path.to_path_buf(),
            fid: fid.to_string(),
            reason,
        };
        let mut values = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            let interner = &mut interners[i];
            values.push(read_value(&feature, i, field.ty, interner).map_err(&feature_error)?);
        }
        let id = match id_index {
            None => FeatureId::Int(fid),
            Some(i) => match &values[i] {
                Value::Int(v) => FeatureId::Int(*v),
                Value::Null => {
                    return Err(feature_error(format!(
                        "id field {:?} is empty",
                        fields[i].name
                    )))
                }
                other => FeatureId::Str(other.to_string().into()),
            },
        };
        let (geometry, problem) = match feature.geometry() {
            None => (
                Geometry::GeometryCollection(GeometryCollection(vec![])),
                Some("empty or missing geometry".to_string()),
            ),
            Some(g) if g.is_empty() => (
                Geometry::GeometryCollection(GeometryCollection(vec![])),
                Some("empty or missing geometry".to_string()),
            ),
            Some(g) => {
                let bytes = g.wkb().map_err(|e| feature_error(e.to_string()))?;
                let decoded = wkb::decode(&bytes).map_err(|e| feature_error(e.to_string()))?;
                (decoded.geometry, decoded.ring_problem)
            }
        };
        features.push(RawFeature {
            id,
            fid,
            geometry,
            values,
            problem,
        });
    }

    Ok(SourceData {
        layer_name,
        driver,
        crs,
        fields,
        features,
    })
}

/// The CRS of a layer as a string PROJ accepts: `AUTH:CODE` when the file's definition matches
/// one (so PROJ can choose the datum transformation registered for it), WKT otherwise.
fn crs_of(mut srs: gdal::spatial_ref::SpatialRef) -> Result<String, String> {
    if let (Some(auth), Ok(code)) = (srs.auth_name(), srs.auth_code()) {
        return Ok(crs::normalize(&format!("{auth}:{code}")));
    }
    if srs.auto_identify_epsg().is_ok() {
        if let (Some(auth), Ok(code)) = (srs.auth_name(), srs.auth_code()) {
            return Ok(crs::normalize(&format!("{auth}:{code}")));
        }
    }
    srs.to_wkt().map_err(|e| e.to_string())
}

/// The fields of a layer, in order, with their types.
fn schema<L: LayerAccess>(layer: &L) -> Vec<Field> {
    let defn = layer.defn();
    defn.fields()
        .enumerate()
        .map(|(i, f)| {
            let ty = match f.field_type() {
                gdal::vector::OGRFieldType::OFTInteger if is_boolean(defn, i) => FieldType::Bool,
                gdal::vector::OGRFieldType::OFTInteger
                | gdal::vector::OGRFieldType::OFTInteger64 => FieldType::Int,
                gdal::vector::OGRFieldType::OFTReal => FieldType::Real,
                gdal::vector::OGRFieldType::OFTDate => FieldType::Date,
                gdal::vector::OGRFieldType::OFTDateTime => FieldType::DateTime,
                // Strings, times, lists and binaries are served as GDAL's text form.
                _ => FieldType::String,
            };
            Field { name: f.name(), ty }
        })
        .collect()
}

/// Whether field `index` is an integer field of GDAL subtype boolean.
#[allow(unsafe_code)]
fn is_boolean(defn: &gdal::vector::Defn, index: usize) -> bool {
    let Ok(index) = i32::try_from(index) else {
        return false;
    };
    // SAFETY: `defn` is a live feature definition owned by the open layer, `index` is one of
    // its field indices (enumerated from it), and OGR_FD_GetFieldDefn returns a pointer owned
    // by the definition, only read here.
    unsafe {
        let field = gdal_sys::OGR_FD_GetFieldDefn(defn.c_defn(), index);
        !field.is_null()
            && gdal_sys::OGR_Fld_GetSubType(field) == gdal_sys::OGRFieldSubType::OFSTBoolean
    }
}

fn read_value(
    feature: &gdal::vector::Feature<'_>,
    index: usize,
    ty: FieldType,
    interner: &mut Interner,
) -> Result<Value, String> {
    if ty == FieldType::String {
        return Ok(feature
            .field_as_string(index)
            .map_err(|e| e.to_string())?
            .map(|s| Value::String(interner.text(&s)))
            .unwrap_or(Value::Null));
    }
    let Some(value) = feature.field(index).map_err(|e| e.to_string())? else {
        return Ok(Value::Null);
    };
    Ok(match (ty, value) {
        (FieldType::Bool, FieldValue::IntegerValue(i)) => Value::Bool(i != 0),
        (_, FieldValue::IntegerValue(i)) => Value::Int(i64::from(i)),
        (_, FieldValue::Integer64Value(i)) => Value::Int(i),
        (_, FieldValue::RealValue(r)) => Value::Real(r),
        (_, FieldValue::DateValue(d)) => Value::Date(interner.text(&d.to_string())),
        (_, FieldValue::DateTimeValue(d)) => Value::DateTime(interner.text(&format!(
            "{}T{}{}",
            d.date_naive(),
            d.time(),
            d.offset()
        ))),
        (_, FieldValue::StringValue(s)) => Value::String(interner.text(&s)),
        (_, other) => Value::String(format!("{other:?}").into()),
    })
}
