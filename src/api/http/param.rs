//! The query parameters of every resource, as data: a resource declares each parameter it reads
//! once ([`Param`]: name, meaning, schema, whether it is required), and the same declaration is
//! what the strict reader accepts ([`super::Query::check`] takes the declarations) and what the
//! OpenAPI document says ([`Param::openapi`]), so the two cannot drift apart.
//!
//! **Empty values.** An optional parameter sent with an empty value (`datetime=`, `bbox=`,
//! `f=`) is the same as a parameter left out: HTML forms send every field, filled or not, and a
//! URL template with an unset variable does the same. The document says so with
//! `allowEmptyValue: true`; in a list (`properties`, `sortby`, `layers`) empty names are left
//! out the same way. Two kinds of parameter differ:
//! - a required parameter (`layer`, `distance`) needs a value, and its schema says so;
//! - an equality filter on a property (`name=`) is a value, never a blank: on a text property
//!   the empty value selects the features whose property is the empty text (QGIS sends
//!   `name=` for the expression `"name" = ''` and then stops filtering on its side, so reading
//!   it as "no filter" would hand QGIS every feature); on a number, a boolean or a date it is
//!   a 400 naming the property.

use serde_json::{json, Map, Value as Json};

use super::negotiate::Repr;
use crate::crs;
use crate::feature::{Field, FieldType};
use crate::store::{Catalog, Layer};

/// What the value of a parameter may be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schema {
    /// Any text.
    Text,
    /// Text matching a regular expression (ECMA 262, as OpenAPI reads patterns).
    Pattern(&'static str),
    /// One of these words.
    Word(&'static [&'static str]),
    /// `f`: the short name of one of these representations.
    Format(&'static [Repr]),
    /// A CRS of the service (`crs`, `bbox-crs`, `filter-crs`, `subject-crs`), listed by URI;
    /// URNs and `AUTH:CODE` name the same CRSs.
    Crs,
    Integer {
        minimum: i64,
        maximum: Option<i64>,
        default: Option<i64>,
    },
    Number {
        minimum: f64,
        maximum: f64,
        default: Option<f64>,
    },
    Boolean {
        default: bool,
    },
    /// `bbox` of OGC API - Features: 4 or 6 numbers, comma separated.
    Bbox,
    /// The id of a catalogue layer.
    Layer,
    /// Catalogue layer ids, comma separated (empty names left out).
    Layers,
    /// A property of some catalogue layer (which one depends on another parameter).
    AnyProperty,
    /// Property names of the collection, comma separated (empty names left out).
    Properties,
    /// Sort keys: property names of the collection, comma separated, each optionally after
    /// `-` (descending) or `+`.
    SortBy,
    /// A value of a property of this type (an equality filter).
    Value(FieldType),
}

/// What a parameter's schema may depend on: the catalogue (its working CRS and layers) and,
/// for the parameters of a collection's resources, the collection.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub working_crs: &'a str,
    pub layers: &'a [std::sync::Arc<Layer>],
    pub layer: Option<&'a Layer>,
}

impl<'a> Scope<'a> {
    /// The scope of the catalogue's resources.
    pub fn of(catalog: &'a Catalog) -> Scope<'a> {
        Scope {
            working_crs: &catalog.working_crs,
            layers: catalog.layers(),
            layer: None,
        }
    }

    /// The scope of a collection's resources.
    pub fn with_layer(self, layer: &'a Layer) -> Scope<'a> {
        Scope {
            layer: Some(layer),
            ..self
        }
    }
}

/// A query parameter a resource reads. Most are `'static` declarations; an equality filter
/// borrows the name of its property.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param<'a> {
    pub name: &'a str,
    pub description: &'static str,
    pub schema: Schema,
    pub required: bool,
}

impl<'a> Param<'a> {
    /// An optional parameter.
    pub const fn new(name: &'a str, schema: Schema, description: &'static str) -> Param<'a> {
        Param {
            name,
            description,
            schema,
            required: false,
        }
    }

    /// The same parameter, required.
    pub const fn required(self) -> Param<'a> {
        Param {
            required: true,
            ..self
        }
    }

    /// `f` for a resource offering `offers` (the first is the default).
    pub const fn format(offers: &'static [Repr]) -> Param<'a> {
        Param::new(
            "f",
            Schema::Format(offers),
            "The representation of the answer, instead of the Accept header.",
        )
    }

    /// The equality filter on property `field` of a collection.
    pub fn equality(field: &'a Field) -> Param<'a> {
        Param::new(&field.name, Schema::Value(field.ty), "")
    }

    pub fn name(&self) -> &'a str {
        self.name
    }

    /// What the parameter means, for the document.
    pub fn describe(&self) -> String {
        let Schema::Value(ty) = self.schema else {
            return self.description.to_string();
        };
        let what = match ty {
            FieldType::String => {
                "; an empty value selects the features whose value is the empty text"
            }
            FieldType::Date => " (a date, YYYY-MM-DD)",
            FieldType::DateTime => " (an RFC 3339 date-time)",
            _ => "",
        };
        format!(
            "Only the features whose {} equals this value{what}.",
            self.name
        )
    }

    /// Whether an empty value counts as the parameter left out (every optional parameter but
    /// the equality filters, whose empty value is a value).
    pub fn empty_is_absent(&self) -> bool {
        !self.required && !matches!(self.schema, Schema::Value(_))
    }

    /// The OpenAPI 3.0 parameter object.
    pub fn openapi(&self, scope: Scope) -> Json {
        let mut p = Map::new();
        p.insert("name".into(), json!(self.name));
        p.insert("in".into(), json!("query"));
        p.insert("required".into(), json!(self.required));
        p.insert("style".into(), json!("form"));
        p.insert("explode".into(), json!(false));
        let mut description = self.describe();
        if self.empty_is_absent() {
            description.push_str(" An empty value is the same as leaving the parameter out.");
            p.insert("allowEmptyValue".into(), json!(true));
        }
        p.insert("description".into(), json!(description));
        p.insert("schema".into(), self.schema.openapi(scope));
        Json::Object(p)
    }
}

/// The short names `f` takes for `offers`, each once, in order.
pub fn format_names(offers: &[Repr]) -> Vec<&'static str> {
    let mut names = Vec::new();
    for o in offers {
        for n in o.f_names() {
            if !names.contains(n) {
                names.push(*n);
            }
        }
    }
    names
}

/// The schemas the parameters refer to, for `components.schemas`: `Crs` (the CRSs of the
/// service), `LayerId` (the catalogue's layers) and `PropertyName` (a property of any layer).
pub fn component_schemas(scope: Scope) -> Vec<(String, Json)> {
    let uris = crs::supported_uris(scope.working_crs);
    let ids: Vec<&str> = scope.layers.iter().map(|l| l.id()).collect();
    let mut names: Vec<&str> = scope
        .layers
        .iter()
        .flat_map(|l| l.fields.iter().map(|f| f.name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    vec![
        (
            "Crs".into(),
            json!({"type": "string", "format": "uri", "enum": uris,
                   "default": crs::uri(crs::CRS84),
                   "description": "A CRS of the service by URI (its URN or AUTH:CODE names it too)."}),
        ),
        (
            "LayerId".into(),
            json!({"type": "string", "enum": ids, "description": "A layer of the catalogue."}),
        ),
        (
            "PropertyName".into(),
            json!({"type": "string", "enum": names,
                   "description": "A property of a layer of the catalogue."}),
        ),
    ]
}

fn schema_ref(name: &str) -> Json {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A comma-separated list of these words (`style: form`, `explode: false`). Empty names are
/// left out ([`super::query::names`]), so the empty word is listed too; a list naming none is
/// the parameter left out.
fn list_of(mut words: Vec<String>) -> Json {
    words.push(String::new());
    json!({"type": "array", "items": {"type": "string", "enum": words}})
}

impl Schema {
    /// The JSON Schema (OpenAPI 3.0 flavour) of values of this kind.
    pub fn openapi(&self, scope: Scope) -> Json {
        let fields = || -> Vec<String> {
            scope
                .layer
                .map(|l| l.fields.iter().map(|f| f.name.clone()).collect())
                .unwrap_or_default()
        };
        match *self {
            Schema::Text => json!({"type": "string"}),
            Schema::Pattern(p) => json!({"type": "string", "pattern": p}),
            Schema::Word(words) => json!({"type": "string", "enum": words}),
            Schema::Format(offers) => {
                json!({"type": "string", "enum": format_names(offers)})
            }
            Schema::Crs => schema_ref("Crs"),
            Schema::Integer {
                minimum,
                maximum,
                default,
            } => {
                let mut s = json!({"type": "integer", "minimum": minimum});
                if let Some(m) = maximum {
                    s["maximum"] = json!(m);
                }
                if let Some(d) = default {
                    s["default"] = json!(d);
                }
                s
            }
            Schema::Number {
                minimum,
                maximum,
                default,
            } => {
                let mut s = json!({"type": "number", "minimum": minimum, "maximum": maximum});
                if let Some(d) = default {
                    s["default"] = json!(d);
                }
                s
            }
            Schema::Boolean { default } => json!({"type": "boolean", "default": default}),
            // The schema of the standard (OGC API - Features Part 1, `bbox.yaml`).
            Schema::Bbox => json!({
                "type": "array",
                "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
                "items": {"type": "number"},
            }),
            Schema::Layer => schema_ref("LayerId"),
            Schema::Layers => list_of(scope.layers.iter().map(|l| l.id().to_string()).collect()),
            Schema::AnyProperty => schema_ref("PropertyName"),
            Schema::Properties => list_of(fields()),
            Schema::SortBy => list_of(
                fields()
                    .into_iter()
                    .flat_map(|f| [f.clone(), format!("-{f}"), format!("+{f}")])
                    .collect(),
            ),
            Schema::Value(ty) => value_schema(ty),
        }
    }
}

/// The JSON Schema of a property value of type `ty` (queryables, feature schemas, equality
/// filters). Integers are 64-bit, as the store keeps them.
pub fn value_schema(ty: FieldType) -> Json {
    match ty {
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Int => json!({"type": "integer", "format": "int64",
            "minimum": i64::MIN, "maximum": i64::MAX}),
        FieldType::Real => json!({"type": "number"}),
        FieldType::String => json!({"type": "string"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_parameter_says_an_empty_value_is_left_out() {
        let scope = Scope {
            working_crs: "EPSG:32632",
            layers: &[],
            layer: None,
        };
        let p = Param::new("datetime", Schema::Text, "A time.").openapi(scope);
        assert_eq!(p["name"], "datetime");
        assert_eq!(p["in"], "query");
        assert_eq!(p["required"], false);
        assert_eq!(p["allowEmptyValue"], true);
        assert!(p["description"].as_str().unwrap().contains("empty value"));

        let r = Param::new("distance", Schema::Text, "A distance.")
            .required()
            .openapi(scope);
        assert_eq!(r["required"], true);
        assert!(r.get("allowEmptyValue").is_none());

        let field = Field {
            name: "name".into(),
            ty: FieldType::String,
        };
        let e = Param::equality(&field).openapi(scope);
        assert!(e.get("allowEmptyValue").is_none());
        assert_eq!(e["schema"], json!({"type": "string"}));
        // What QGIS needs to send equality filters: form style, not exploded, a type.
        assert_eq!(e["style"], "form");
        assert_eq!(e["explode"], false);
        assert!(e["description"].as_str().unwrap().contains("empty text"));
    }

    #[test]
    fn schemas_state_what_the_parsers_accept() {
        let scope = Scope {
            working_crs: "EPSG:32632",
            layers: &[],
            layer: None,
        };
        let k = Schema::Integer {
            minimum: 1,
            maximum: Some(1000),
            default: Some(5),
        }
        .openapi(scope);
        assert_eq!(
            k,
            json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 5})
        );
        let f = Schema::Format(&[Repr::GeoJson, Repr::Html]).openapi(scope);
        assert_eq!(f["enum"], json!(["json", "geojson", "html"]));
        assert_eq!(
            Schema::Crs.openapi(scope),
            json!({"$ref": "#/components/schemas/Crs"})
        );
        let c = &component_schemas(scope)[0].1;
        let uris = c["enum"].as_array().unwrap();
        assert!(uris.contains(&json!("http://www.opengis.net/def/crs/OGC/1.3/CRS84")));
        assert!(uris.contains(&json!("http://www.opengis.net/def/crs/EPSG/0/32632")));
        let bbox = Schema::Bbox.openapi(scope);
        assert_eq!(bbox["oneOf"][1]["minItems"], 6);
    }
}
