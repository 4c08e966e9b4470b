//! Measures cited in narrative text (built in the scorecard issue).

use super::Parsed;
use crate::classify::Classification;
use crate::layout::LayoutDoc;
use crate::rules::Rules;

pub fn parse(_doc: &LayoutDoc, _class: &Classification, _rules: &Rules, _out: &mut Parsed) {}
