//! CQL2 filters (OGC API - Features Part 3). Placeholder interface: every filter is refused
//! with a 400 until the evaluator lands (next commit); the API already routes `filter` here.
use crate::feature::Feature;
use crate::store::Layer;

/// The filter languages.
pub enum FilterLang {
    Cql2Text,
    Cql2Json,
}

impl std::str::FromStr for FilterLang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cql2-text" => Ok(Self::Cql2Text),
            "cql2-json" => Ok(Self::Cql2Json),
            o => Err(format!("unknown filter-lang {o:?}")),
        }
    }
}

/// A compiled filter.
pub struct Filter;

impl Filter {
    pub fn compile(
        _text: &str,
        _lang: FilterLang,
        _layer: &Layer,
        _filter_crs: &str,
        _working_crs: &str,
    ) -> Result<Filter, String> {
        Err("filters are not available yet".into())
    }
    pub fn matches(&self, _f: &Feature) -> bool {
        false
    }
    pub fn select(&self, _l: &Layer) -> Vec<u32> {
        Vec::new()
    }
}
