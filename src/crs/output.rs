//! The CRS an answer is written in: its id, URI, axis order and the decimals its coordinates
//! keep. Shared by every writer of coordinates (GeoJSON answers, the CLI) and by every reader
//! of client coordinates (bbox, subjects), so that axis order is decided in one place.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::{normalize, northing_first, uri, CrsError, CRS84};

/// A CRS answers can be written in.
#[derive(Debug, Clone)]
pub struct OutputCrs {
    /// Normalised id (`OGC:CRS84`, `EPSG:4326`).
    pub id: Cow<'static, str>,
    /// The OGC URI (`http://www.opengis.net/def/crs/EPSG/0/4326`).
    pub uri: Cow<'static, str>,
    /// Whether the CRS's axis order is northing/latitude first (coordinates are swapped on the
    /// way out and on the way in).
    pub northing_first: bool,
    /// Decimals written: 7 for degrees (about 1 cm), 3 for metres.
    pub decimals: u32,
}

impl OutputCrs {
    /// The description of a CRS, read from its definition once per process (reading it costs
    /// a PROJ database lookup) and remembered.
    pub fn new(crs: &str) -> Result<OutputCrs, CrsError> {
        use std::collections::HashMap;
        use std::sync::RwLock;
        static KNOWN: OnceLock<RwLock<HashMap<String, OutputCrs>>> = OnceLock::new();
        let known = KNOWN.get_or_init(|| RwLock::new(HashMap::new()));
        if let Some(c) = known.read().unwrap_or_else(|e| e.into_inner()).get(crs) {
            return Ok(c.clone());
        }
        let c = OutputCrs::read(crs)?;
        known
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(crs.to_string(), c.clone());
        Ok(c)
    }

    fn read(crs: &str) -> Result<OutputCrs, CrsError> {
        let id = normalize(crs);
        let srs =
            gdal::spatial_ref::SpatialRef::from_definition(&id).map_err(|e| CrsError::Unknown {
                crs: crs.to_string(),
                reason: e.to_string(),
            })?;
        Ok(OutputCrs {
            uri: uri(&id).into(),
            northing_first: northing_first(&id)?,
            decimals: if srs.is_geographic() { 7 } else { 3 },
            id: id.into(),
        })
    }

    pub fn is_crs84(&self) -> bool {
        self.id == CRS84
    }

    /// CRS84 (lon, lat; 7 decimals), without a PROJ lookup or an allocation.
    pub fn crs84() -> OutputCrs {
        OutputCrs {
            id: Cow::Borrowed(CRS84),
            uri: Cow::Borrowed(super::CRS84_URI),
            northing_first: false,
            decimals: 7,
        }
    }
}
