//! Mapbox Vector Tile 2.1 encoding: the messages of `vector_tile.proto` declared for prost's
//! derive, and a [`LayerBuilder`] that writes features with geometry commands, deduplicated
//! keys and values.
//!
//! Geometry commands (spec 4.3): `MoveTo` (1), `LineTo` (2), `ClosePath` (7), each a command
//! integer `(id & 7) | (count << 3)` followed by zigzag-encoded deltas from a cursor that runs
//! through all the parts of a feature. Cost: O(v) for v vertices, O(p) hash lookups for p
//! properties.

use std::collections::HashMap;

use prost::Message;

use crate::feature::{FeatureId, Value};

/// The tile extent: coordinates run 0..4096 across a tile (spec 4.1 default).
pub const EXTENT: u32 = 4096;

/// `Tile` of `vector_tile.proto`.
#[derive(Clone, PartialEq, Message)]
pub struct Tile {
    #[prost(message, repeated, tag = "3")]
    pub layers: Vec<TileLayer>,
}

/// `Tile.Value`: exactly one field set.
#[derive(Clone, PartialEq, Message)]
pub struct TileValue {
    #[prost(string, optional, tag = "1")]
    pub string_value: Option<String>,
    #[prost(float, optional, tag = "2")]
    pub float_value: Option<f32>,
    #[prost(double, optional, tag = "3")]
    pub double_value: Option<f64>,
    #[prost(int64, optional, tag = "4")]
    pub int_value: Option<i64>,
    #[prost(uint64, optional, tag = "5")]
    pub uint_value: Option<u64>,
    #[prost(sint64, optional, tag = "6")]
    pub sint_value: Option<i64>,
    #[prost(bool, optional, tag = "7")]
    pub bool_value: Option<bool>,
}

/// `Tile.Feature`. `type` is the `GeomType` enumeration (1 point, 2 line, 3 polygon).
#[derive(Clone, PartialEq, Message)]
pub struct TileFeature {
    #[prost(uint64, optional, tag = "1")]
    pub id: Option<u64>,
    #[prost(uint32, repeated, packed = "true", tag = "2")]
    pub tags: Vec<u32>,
    #[prost(int32, optional, tag = "3")]
    pub r#type: Option<i32>,
    #[prost(uint32, repeated, packed = "true", tag = "4")]
    pub geometry: Vec<u32>,
}

/// `Tile.Layer`.
#[derive(Clone, PartialEq, Message)]
pub struct TileLayer {
    #[prost(uint32, required, tag = "15")]
    pub version: u32,
    #[prost(string, required, tag = "1")]
    pub name: String,
    #[prost(message, repeated, tag = "2")]
    pub features: Vec<TileFeature>,
    #[prost(string, repeated, tag = "3")]
    pub keys: Vec<String>,
    #[prost(message, repeated, tag = "4")]
    pub values: Vec<TileValue>,
    #[prost(uint32, optional, tag = "5")]
    pub extent: Option<u32>,
}

/// A feature's geometry in tile coordinates (integers, y down), ready to encode: parts already
/// clipped, without repeated points; rings open (the first point not repeated at the end) and
/// wound as the spec requires (exterior rings of positive area, holes negative).
#[derive(Debug, Clone, PartialEq)]
pub enum TileGeometry {
    Points(Vec<[i32; 2]>),
    Lines(Vec<Vec<[i32; 2]>>),
    /// Polygons, each an exterior ring followed by its holes.
    Polygons(Vec<Vec<Vec<[i32; 2]>>>),
}

/// The key of a value in the dedup table (doubles by their bits).
#[derive(Hash, PartialEq, Eq)]
enum ValueKey {
    String(String),
    Double(u64),
    Int(i64),
    Bool(bool),
}

/// One MVT layer being written.
pub struct LayerBuilder {
    layer: TileLayer,
    keys: HashMap<String, u32>,
    values: HashMap<ValueKey, u32>,
}

impl LayerBuilder {
    /// An empty layer named `name` (the collection id), version 2, extent [`EXTENT`].
    pub fn new(name: &str) -> LayerBuilder {
        LayerBuilder {
            layer: TileLayer {
                version: 2,
                name: name.to_string(),
                extent: Some(EXTENT),
                ..TileLayer::default()
            },
            keys: HashMap::new(),
            values: HashMap::new(),
        }
    }

    /// How many features the layer has.
    pub fn len(&self) -> usize {
        self.layer.features.len()
    }

    /// Whether the layer has no feature.
    pub fn is_empty(&self) -> bool {
        self.layer.features.is_empty()
    }

    /// Adds a feature: its id as the MVT id when it is a non-negative integer, else as a
    /// property `id` (unless a property of that name exists already); its non-null properties
    /// with their types (dates as strings).
    pub fn add(&mut self, id: &FeatureId, properties: &[(&str, &Value)], geometry: &TileGeometry) {
        let mut tags = Vec::with_capacity(properties.len() * 2 + 2);
        let mvt_id = match id {
            FeatureId::Int(i) if *i >= 0 => Some(*i as u64),
            _ => None,
        };
        if mvt_id.is_none() && !properties.iter().any(|(k, _)| *k == "id") {
            let value = match id {
                FeatureId::Int(i) => ValueKey::Int(*i),
                FeatureId::Str(s) => ValueKey::String(s.clone()),
            };
            tags.push(self.key("id"));
            tags.push(self.value(value));
        }
        for (name, value) in properties {
            let v = match value {
                Value::Null => continue,
                Value::Bool(b) => ValueKey::Bool(*b),
                Value::Int(i) => ValueKey::Int(*i),
                Value::Real(r) => ValueKey::Double(r.to_bits()),
                Value::String(s) | Value::Date(s) | Value::DateTime(s) => {
                    ValueKey::String(s.clone())
                }
            };
            tags.push(self.key(name));
            tags.push(self.value(v));
        }
        let (kind, commands) = encode_geometry(geometry);
        self.layer.features.push(TileFeature {
            id: mvt_id,
            tags,
            r#type: Some(kind),
            geometry: commands,
        });
    }

    fn key(&mut self, name: &str) -> u32 {
        if let Some(k) = self.keys.get(name) {
            return *k;
        }
        let k = self.layer.keys.len() as u32;
        self.layer.keys.push(name.to_string());
        self.keys.insert(name.to_string(), k);
        k
    }

    fn value(&mut self, v: ValueKey) -> u32 {
        if let Some(k) = self.values.get(&v) {
            return *k;
        }
        let k = self.layer.values.len() as u32;
        let mut value = TileValue::default();
        match &v {
            ValueKey::String(s) => value.string_value = Some(s.clone()),
            ValueKey::Double(bits) => value.double_value = Some(f64::from_bits(*bits)),
            ValueKey::Int(i) => value.int_value = Some(*i),
            ValueKey::Bool(b) => value.bool_value = Some(*b),
        }
        self.layer.values.push(value);
        self.values.insert(v, k);
        k
    }

    /// The tile with this one layer, encoded.
    pub fn encode(self) -> Vec<u8> {
        Tile {
            layers: vec![self.layer],
        }
        .encode_to_vec()
    }
}

fn command(id: u32, count: usize) -> u32 {
    (id & 7) | ((count as u32) << 3)
}

fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

/// The MVT geometry type and command stream of a geometry.
fn encode_geometry(geometry: &TileGeometry) -> (i32, Vec<u32>) {
    let mut out = Vec::new();
    let mut cursor = [0i32, 0i32];
    let mut push = |out: &mut Vec<u32>, p: [i32; 2]| {
        out.push(zigzag(p[0] - cursor[0]));
        out.push(zigzag(p[1] - cursor[1]));
        cursor = p;
    };
    match geometry {
        TileGeometry::Points(points) => {
            out.push(command(1, points.len()));
            for p in points {
                push(&mut out, *p);
            }
            (1, out)
        }
        TileGeometry::Lines(lines) => {
            for line in lines {
                out.push(command(1, 1));
                push(&mut out, line[0]);
                out.push(command(2, line.len() - 1));
                for p in &line[1..] {
                    push(&mut out, *p);
                }
            }
            (2, out)
        }
        TileGeometry::Polygons(polygons) => {
            for ring in polygons.iter().flatten() {
                out.push(command(1, 1));
                push(&mut out, ring[0]);
                out.push(command(2, ring.len() - 1));
                for p in &ring[1..] {
                    push(&mut out, *p);
                }
                out.push(command(7, 1));
            }
            (3, out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_follow_the_spec_examples() {
        // Spec 4.3.5.1: a point at (25, 17) is [9, 50, 34].
        let (kind, g) = encode_geometry(&TileGeometry::Points(vec![[25, 17]]));
        assert_eq!((kind, g), (1, vec![9, 50, 34]));
        // Spec 4.3.5.3: a line (2,2) (2,10) (10,10).
        let (kind, g) =
            encode_geometry(&TileGeometry::Lines(vec![vec![[2, 2], [2, 10], [10, 10]]]));
        assert_eq!((kind, g), (2, vec![9, 4, 4, 18, 0, 16, 16, 0]));
        // Spec 4.3.5.5: a polygon (3,6) (8,12) (20,34), closed.
        let (kind, g) = encode_geometry(&TileGeometry::Polygons(vec![vec![vec![
            [3, 6],
            [8, 12],
            [20, 34],
        ]]]));
        assert_eq!((kind, g), (3, vec![9, 6, 12, 18, 10, 12, 24, 44, 15]));
    }
}
