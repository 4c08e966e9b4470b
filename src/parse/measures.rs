//! Scorecard measures (built in the scorecard issue).

use super::Parsed;
use crate::layout::LayoutDoc;
use crate::rules::Rules;

pub fn parse(_doc: &LayoutDoc, _rules: &Rules, _out: &mut Parsed) {}
