//! Mapbox Vector Tile 2.1 encoding: the messages of `vector_tile.proto` declared for prost's
//! derive, and a [`LayerBuilder`] that writes features with geometry commands, deduplicated
//! keys and values, straight into the layer's bytes with prost's encoding functions (a test
//! checks they equal prost's encoding of the same messages).
//!
//! Geometry commands (spec 4.3): `MoveTo` (1), `LineTo` (2), `ClosePath` (7), each a command
//! integer `(id & 7) | (count << 3)` followed by zigzag-encoded deltas from a cursor that runs
//! through all the parts of a feature. Cost: O(v) for v vertices, O(p) hash lookups for p
//! properties.

use foldhash::HashMap;

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
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

/// The key of a non-text value in the dedup table (doubles by their bits).
#[derive(Hash, PartialEq, Eq)]
enum Scalar {
    Double(u64),
    Int(i64),
    Bool(bool),
}

/// One MVT layer being written.
///
/// Features are encoded as they are added, into one buffer of `Layer.features` fields (the
/// protobuf wire format written with prost's encoding functions: a key, a length, the
/// `Feature` message's fields); the keys and values tables are written at the end. A tile of
/// tens of thousands of features so costs no allocation per feature: the tags and the
/// geometry commands go through buffers the builder reuses, and a text value is looked up by
/// reference, copied only the first time it is met.
pub struct LayerBuilder {
    name: String,
    /// The `features` fields, encoded.
    features: Vec<u8>,
    count: usize,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<TileValue>,
    strings: HashMap<String, u32>,
    scalars: HashMap<Scalar, u32>,
    tags: Vec<u32>,
    commands: Commands,
}

impl LayerBuilder {
    /// An empty layer named `name` (the collection id), version 2, extent [`EXTENT`].
    pub fn new(name: &str) -> LayerBuilder {
        LayerBuilder {
            name: name.to_string(),
            features: Vec::new(),
            count: 0,
            keys: Vec::new(),
            key_index: HashMap::default(),
            values: Vec::new(),
            strings: HashMap::default(),
            scalars: HashMap::default(),
            tags: Vec::new(),
            commands: Commands::default(),
        }
    }

    /// How many features the layer has.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the layer has no feature.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Adds a feature: its id as the MVT id when it is a non-negative integer, else as a
    /// property `id` (unless a property of that name exists already); its non-null properties
    /// with their types (dates as strings).
    pub fn add(&mut self, id: &FeatureId, properties: &[(&str, &Value)], geometry: &TileGeometry) {
        let mut commands = std::mem::take(&mut self.commands);
        commands.clear();
        let kind = commands.geometry(geometry);
        self.add_encoded(id, properties.iter().copied(), kind, &commands);
        self.commands = commands;
    }

    /// The command buffer of the next feature's geometry, emptied: write the geometry into
    /// it, then add the feature with [`LayerBuilder::add_written`].
    pub fn next_geometry(&mut self) -> &mut Commands {
        self.commands.clear();
        &mut self.commands
    }

    /// Adds a feature (as [`LayerBuilder::add`]) whose geometry of MVT type `kind` (1 point,
    /// 2 line, 3 polygon) was written into [`LayerBuilder::next_geometry`].
    pub fn add_written<'a>(
        &mut self,
        id: &FeatureId,
        properties: impl Iterator<Item = (&'a str, &'a Value)> + Clone,
        kind: i32,
    ) {
        let commands = std::mem::take(&mut self.commands);
        self.add_encoded(id, properties, kind, &commands);
        self.commands = commands;
    }

    fn add_encoded<'a>(
        &mut self,
        id: &FeatureId,
        properties: impl Iterator<Item = (&'a str, &'a Value)> + Clone,
        kind: i32,
        commands: &Commands,
    ) {
        let mut tags = std::mem::take(&mut self.tags);
        tags.clear();
        let mvt_id = match id {
            FeatureId::Int(i) if *i >= 0 => Some(*i as u64),
            _ => None,
        };
        if mvt_id.is_none() && !properties.clone().any(|(k, _)| k == "id") {
            tags.push(self.key("id"));
            tags.push(match id {
                FeatureId::Int(i) => self.scalar(Scalar::Int(*i)),
                FeatureId::Str(s) => self.string(s),
            });
        }
        for (name, value) in properties {
            let v = match value {
                Value::Null => continue,
                Value::Bool(b) => self.scalar(Scalar::Bool(*b)),
                Value::Int(i) => self.scalar(Scalar::Int(*i)),
                Value::Real(r) => self.scalar(Scalar::Double(r.to_bits())),
                Value::String(s) | Value::Date(s) | Value::DateTime(s) => self.string(s),
            };
            tags.push(self.key(name));
            tags.push(v);
        }
        // Feature: id (1, varint), tags (2, packed), type (3, varint), geometry (4, packed).
        let packed_len = |v: &[u32]| v.iter().map(|&t| encoded_len_varint(u64::from(t))).sum();
        let (tags_len, geometry_len): (usize, usize) =
            (packed_len(&tags), packed_len(&commands.out));
        let mut len = 1 + encoded_len_varint(kind as u64);
        if let Some(id) = mvt_id {
            len += 1 + encoded_len_varint(id);
        }
        for part in [tags_len, geometry_len] {
            if part > 0 {
                len += 1 + encoded_len_varint(part as u64) + part;
            }
        }
        let out = &mut self.features;
        encode_key(2, WireType::LengthDelimited, out);
        encode_varint(len as u64, out);
        if let Some(id) = mvt_id {
            encode_key(1, WireType::Varint, out);
            encode_varint(id, out);
        }
        for (tag, values, part) in [(2, &tags, tags_len), (4, &commands.out, geometry_len)] {
            if tag == 4 {
                encode_key(3, WireType::Varint, out);
                encode_varint(kind as u64, out);
            }
            if part > 0 {
                encode_key(tag, WireType::LengthDelimited, out);
                encode_varint(part as u64, out);
                for &v in values {
                    encode_varint(u64::from(v), out);
                }
            }
        }
        self.count += 1;
        self.tags = tags;
    }

    fn key(&mut self, name: &str) -> u32 {
        if let Some(k) = self.key_index.get(name) {
            return *k;
        }
        let k = self.keys.len() as u32;
        self.keys.push(name.to_string());
        self.key_index.insert(name.to_string(), k);
        k
    }

    fn string(&mut self, s: &str) -> u32 {
        if let Some(k) = self.strings.get(s) {
            return *k;
        }
        let k = self.values.len() as u32;
        self.values.push(TileValue {
            string_value: Some(s.to_string()),
            ..TileValue::default()
        });
        self.strings.insert(s.to_string(), k);
        k
    }

    fn scalar(&mut self, v: Scalar) -> u32 {
        if let Some(k) = self.scalars.get(&v) {
            return *k;
        }
        let k = self.values.len() as u32;
        let mut value = TileValue::default();
        match &v {
            Scalar::Double(bits) => value.double_value = Some(f64::from_bits(*bits)),
            Scalar::Int(i) => value.int_value = Some(*i),
            Scalar::Bool(b) => value.bool_value = Some(*b),
        }
        self.values.push(value);
        self.scalars.insert(v, k);
        k
    }

    /// The tile with this one layer, encoded: `Tile.layers` (3) holding the layer's name (1),
    /// features (2), keys (3), values (4), extent (5) and version (15), in the order of their
    /// numbers, as prost writes the [`Tile`] message.
    pub fn encode(self) -> Vec<u8> {
        use prost::encoding::{message, string, uint32};
        let len = string::encoded_len(1, &self.name)
            + self.features.len()
            + string::encoded_len_repeated(3, &self.keys)
            + message::encoded_len_repeated(4, &self.values)
            + uint32::encoded_len(5, &EXTENT)
            + uint32::encoded_len(15, &2);
        let mut out = Vec::with_capacity(len + 16);
        encode_key(3, WireType::LengthDelimited, &mut out);
        encode_varint(len as u64, &mut out);
        string::encode(1, &self.name, &mut out);
        out.extend_from_slice(&self.features);
        string::encode_repeated(3, &self.keys, &mut out);
        message::encode_repeated(4, &self.values, &mut out);
        uint32::encode(5, &EXTENT, &mut out);
        uint32::encode(15, &2, &mut out);
        out
    }
}

fn command(id: u32, count: usize) -> u32 {
    (id & 7) | ((count as u32) << 3)
}

fn zigzag(n: i32) -> u32 {
    ((n << 1) ^ (n >> 31)) as u32
}

/// A feature's geometry commands, written part by part: the cursor runs through all the parts
/// of a feature (spec 4.3.1), so parts go in the order they are drawn.
#[derive(Debug, Default)]
pub struct Commands {
    out: Vec<u32>,
    cursor: [i32; 2],
}

impl Commands {
    fn clear(&mut self) {
        self.out.clear();
        self.cursor = [0, 0];
    }

    fn push(&mut self, p: [i32; 2]) {
        self.out.push(zigzag(p[0] - self.cursor[0]));
        self.out.push(zigzag(p[1] - self.cursor[1]));
        self.cursor = p;
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The points of a point feature: one `MoveTo` of all of them.
    pub fn points(&mut self, points: &[[i32; 2]]) {
        self.out.push(command(1, points.len()));
        for p in points {
            self.push(*p);
        }
    }

    /// A line of two points or more: `MoveTo` its first, `LineTo` the others.
    pub fn line(&mut self, line: &[[i32; 2]]) {
        self.out.push(command(1, 1));
        self.push(line[0]);
        self.out.push(command(2, line.len() - 1));
        for p in &line[1..] {
            self.push(*p);
        }
    }

    /// A ring, open and wound already: the line of its points, then `ClosePath`.
    pub fn ring(&mut self, ring: &[[i32; 2]]) {
        self.line(ring);
        self.out.push(command(7, 1));
    }

    /// Writes a whole geometry; its MVT type.
    fn geometry(&mut self, geometry: &TileGeometry) -> i32 {
        match geometry {
            TileGeometry::Points(points) => {
                self.points(points);
                1
            }
            TileGeometry::Lines(lines) => {
                lines.iter().for_each(|l| self.line(l));
                2
            }
            TileGeometry::Polygons(polygons) => {
                polygons.iter().flatten().for_each(|r| self.ring(r));
                3
            }
        }
    }
}

/// The MVT geometry type and command stream of a geometry.
#[cfg(test)]
fn encode_geometry(geometry: &TileGeometry) -> (i32, Vec<u32>) {
    let mut commands = Commands::default();
    let kind = commands.geometry(geometry);
    (kind, commands.out)
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

    #[test]
    fn the_streamed_layer_is_what_prost_writes_for_the_same_message() {
        // The expected message is written out by hand (keys and values in the order first
        // met, the text id as a property `id`, nulls left out) and encoded by prost's derive.
        let mut builder = LayerBuilder::new("zones");
        let (name_a, name_b) = (Value::String("Crema".into()), Value::String("Lodi".into()));
        let (area, count, flag) = (Value::Real(12.5), Value::Int(-4), Value::Bool(true));
        builder.add(
            &FeatureId::Int(300),
            &[("name", &name_a), ("area", &area), ("note", &Value::Null)],
            &TileGeometry::Points(vec![[25, 17]]),
        );
        builder.add(
            &FeatureId::Str("Z-2".into()),
            &[("name", &name_b), ("count", &count), ("ok", &flag)],
            &TileGeometry::Lines(vec![vec![[2, 2], [2, 10], [10, 10]]]),
        );
        builder.add(
            &FeatureId::Int(-1),
            &[("name", &name_a), ("area", &area)],
            &TileGeometry::Polygons(vec![vec![vec![[3, 6], [8, 12], [20, 34]]]]),
        );
        assert_eq!(builder.len(), 3);
        let text = |s: &str| TileValue {
            string_value: Some(s.into()),
            ..TileValue::default()
        };
        let expected = Tile {
            layers: vec![TileLayer {
                version: 2,
                name: "zones".into(),
                features: vec![
                    TileFeature {
                        id: Some(300),
                        tags: vec![0, 0, 1, 1],
                        r#type: Some(1),
                        geometry: vec![9, 50, 34],
                    },
                    TileFeature {
                        id: None,
                        tags: vec![2, 2, 0, 3, 3, 4, 4, 5],
                        r#type: Some(2),
                        geometry: vec![9, 4, 4, 18, 0, 16, 16, 0],
                    },
                    TileFeature {
                        id: None,
                        tags: vec![2, 6, 0, 0, 1, 1],
                        r#type: Some(3),
                        geometry: vec![9, 6, 12, 18, 10, 12, 24, 44, 15],
                    },
                ],
                keys: ["name", "area", "id", "count", "ok"]
                    .map(String::from)
                    .to_vec(),
                values: vec![
                    text("Crema"),
                    TileValue {
                        double_value: Some(12.5),
                        ..TileValue::default()
                    },
                    text("Z-2"),
                    text("Lodi"),
                    TileValue {
                        int_value: Some(-4),
                        ..TileValue::default()
                    },
                    TileValue {
                        bool_value: Some(true),
                        ..TileValue::default()
                    },
                    TileValue {
                        int_value: Some(-1),
                        ..TileValue::default()
                    },
                ],
                extent: Some(EXTENT),
            }],
        };
        let bytes = builder.encode();
        assert_eq!(Tile::decode(bytes.as_slice()).unwrap(), expected);
        assert_eq!(bytes, expected.encode_to_vec());
    }
}
