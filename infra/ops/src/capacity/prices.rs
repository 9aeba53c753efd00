//! The price table (`infra/ops/prices/us-east-1.json`), embedded at build time so the figures printed always name
//! the table they came from.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One list price: `usd` for `per` units.
#[derive(Debug, Clone, Deserialize)]
pub struct Price {
    pub usd: f64,
    pub per: f64,
    pub unit: String,
    pub source: String,
}

impl Price {
    /// The price of `units` units.
    pub fn of(&self, units: f64) -> f64 {
        self.usd * units / self.per
    }
}

/// A region's price table.
#[derive(Debug, Clone, Deserialize)]
pub struct Prices {
    pub region: String,
    pub currency: String,
    /// When the figures were entered from their sources.
    pub entered: String,
    pub note: String,
    pub prices: BTreeMap<String, Price>,
}

const US_EAST_1: &str = include_str!("../../prices/us-east-1.json");

impl Prices {
    /// The us-east-1 table shipped with the tools.
    pub fn us_east_1() -> Self {
        serde_json::from_str(US_EAST_1).expect("the shipped price table parses (checked by a test)")
    }

    /// The price named `name`; every name the cost model uses is in the shipped table (checked by a test).
    pub fn get(&self, name: &str) -> &Price {
        self.prices
            .get(name)
            .unwrap_or_else(|| panic!("no price named {name} in the {} table", self.region))
    }
}
