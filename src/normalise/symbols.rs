//! Scorecard keys and measures: labels → canonical values, symbols decoded
//! through the document's own key (built in the scorecard issue).

use super::DocFacts;
use crate::model::{KeyEntry, Measure};
use crate::parse::{RawKey, RawMeasure};
use crate::rules::Rules;

/// Decode a document's keys and measures.
pub fn decode(
    _keys: Vec<RawKey>,
    _measures: Vec<RawMeasure>,
    _facts: &DocFacts,
    _rules: &Rules,
) -> (Vec<KeyEntry>, Vec<Measure>, Vec<String>) {
    (Vec::new(), Vec::new(), Vec::new())
}
