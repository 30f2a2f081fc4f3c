//! The `[roles]` table of a catalogue, as written: settings and their values, in file order.
//!
//! The catalogue only reads and writes the table; what each setting means (which layer plays
//! which part in the site report and the indicators, which field each part reads, the
//! defaults, which settings exist at all) is the table of roles in [`crate::ptcp::roles`],
//! which also checks `[roles]` against the catalogue's layers.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The optional `[roles]` table: which layer plays which part in the site report and the
/// monitoring indicators, and which fields carry residents, beds and the project attributes.
///
/// ```toml
/// [roles]
/// municipalities = "comuni"        # a layer id of this catalogue
/// residents_field = "residents"
/// nursing_homes = ""               # "": no layer plays this part
/// ```
///
/// Held as written, setting by setting in file order, and written back the same way. The
/// settings, their defaults and their checks are in [`crate::ptcp::roles`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleTable(Vec<(String, String)>);

impl RoleTable {
    /// The value of a setting, if the table has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Sets a setting, in place when the table has it and at the end otherwise.
    pub fn set(&mut self, key: &str, value: &str) {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
    }

    /// The settings and their values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Reorders the settings by `rank` (stable: equal ranks keep their order).
    pub fn sort_by_key<K: Ord>(&mut self, mut rank: impl FnMut(&str) -> K) {
        self.0.sort_by_key(|(k, _)| rank(k));
    }

    /// Whether the table names nothing (an empty `[roles]` is not written).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for RoleTable {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for RoleTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = RoleTable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of settings, each a string")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RoleTable, A::Error> {
                let mut table = RoleTable::default();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    table.set(&k, &v);
                }
                Ok(table)
            }
        }
        d.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_keep_their_order_and_are_replaced_in_place() {
        let mut t = RoleTable::default();
        assert!(t.is_empty());
        t.set("parks", "parchi");
        t.set("hospitals", "");
        t.set("parks", "zone_verdi");
        assert_eq!(t.get("parks"), Some("zone_verdi"));
        assert_eq!(t.get("hospitals"), Some(""));
        assert_eq!(t.get("roads"), None);
        let keys: Vec<&str> = t.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["parks", "hospitals"]);
        t.sort_by_key(|k| k.len());
        let keys: Vec<&str> = t.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["parks", "hospitals"]);
    }
}
