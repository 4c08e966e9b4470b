//! Measure values as printed → references, numbers and units.

use regex::Regex;
use std::sync::OnceLock;

use crate::model::Quantity;
use crate::rules::{normalise, Rules};

/// A normalised measure reference and what it encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// `1.A3`, `3.B4(b)`.
    pub text: String,
    pub priority: Option<u32>,
    pub outcome: Option<String>,
}

/// "3.B4 (b)" → "3.B4(b)", "2.A6 a)" → "2.A6(a)"; anything the reference
/// pattern does not recognise is kept as printed, whitespace folded.
pub fn normalise_ref(raw: &str, rules: &Rules) -> Ref {
    let folded = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match rules.measures.ref_pattern.captures(&folded) {
        Some(c) if folded[..c.get(0).map_or(0, |m| m.start())].trim().is_empty() => {
            let p = c.name("p").map_or("", |m| m.as_str());
            let o = c.name("o").map_or("", |m| m.as_str());
            let n = c.name("n").map_or("", |m| m.as_str());
            let sub = c.name("s").map(|m| format!("({})", m.as_str())).unwrap_or_default();
            Ref { text: format!("{p}.{o}{n}{sub}"), priority: p.parse().ok(), outcome: Some(o.to_string()) }
        }
        _ => Ref { text: folded, priority: None, outcome: None },
    }
}

fn number_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"-?\d[\d,]*(?:\.\d+)?").expect("static pattern"))
}

/// A printed value or target as a number with its unit.
pub fn quantity(raw: &str, rules: &Rules) -> Option<Quantity> {
    let raw = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if raw.is_empty() {
        return None;
    }
    let norm = normalise(&raw);
    if rules.measures.no_value.contains(&norm) {
        return Some(Quantity { raw, number: None, unit: None });
    }
    let number = number_re().find(&raw).and_then(|m| m.as_str().replace(',', "").parse::<f64>().ok());
    let unit = rules.measures.units.longest_within(&raw).or_else(|| number.map(|_| "count".to_string()));
    Some(Quantity { raw, number, unit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_quantities() {
        let rules = Rules::builtin().unwrap();
        assert_eq!(normalise_ref("3.B4 (b)", &rules).text, "3.B4(b)");
        assert_eq!(normalise_ref("2.A6 a)", &rules).text, "2.A6(a)");
        assert_eq!(
            normalise_ref(" 1.A3 ", &rules),
            Ref { text: "1.A3".into(), priority: Some(1), outcome: Some("A".into()) }
        );
        assert_eq!(normalise_ref("ENT1", &rules).text, "ENT1");
        let q = |s: &str| quantity(s, &rules).map(|q| (q.number, q.unit));
        assert_eq!(q("30.4%"), Some((Some(30.4), Some("%".into()))));
        assert_eq!(q("£4,859"), Some((Some(4859.0), Some("£".into()))));
        assert_eq!(q("10.71 days"), Some((Some(10.71), Some("days".into()))));
        assert_eq!(q("385.2 per 10,000"), Some((Some(385.2), Some("rate_per_10k".into()))));
        assert_eq!(q("3,127"), Some((Some(3127.0), Some("count".into()))));
        assert_eq!(q("n/a"), Some((None, None)));
        assert_eq!(q(""), None);
    }
}
