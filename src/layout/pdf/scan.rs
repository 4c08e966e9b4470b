//! A light scanner over PDF content streams for the font pass.
//!
//! The font pass needs only a handful of operators (`Tf`, `Tj`, `TJ`, `q`,
//! `Q`, `Do`) and a little of their operands, yet decoding a content stream
//! into a full operation list (lopdf's `Content::decode`) cost as much as
//! `pdf-extract`'s own decoding of the same stream — a quarter of all the
//! work on a typical report. This scanner walks the bytes once, keeps only
//! what the font pass needs, and skips inline image data (`BI … ID … EI`)
//! the way a PDF reader must.

/// What the font pass needs to know of an operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand<'a> {
    Name(&'a [u8]),
    /// An array, with how many strings it holds (a `TJ` operand).
    Array {
        strings: usize,
    },
    Other,
}

/// One operator with its operands.
#[derive(Debug, Clone, PartialEq)]
pub struct Op<'a> {
    pub operator: &'a [u8],
    pub operands: Vec<Operand<'a>>,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0')
}

fn is_delim(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

/// The end of a literal string starting at `i` (just after its `(`).
fn skip_literal(data: &[u8], mut i: usize) -> usize {
    let mut depth = 1usize;
    while i < data.len() {
        match data[i] {
            b'\\' => i += 2,
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    data.len()
}

/// The end of a regular token (name body, number, operator) starting at `i`.
fn token_end(data: &[u8], mut i: usize) -> usize {
    while i < data.len() && !is_white(data[i]) && !is_delim(data[i]) {
        i += 1;
    }
    i
}

/// Skip inline image data after `ID`: up to and including the `EI` that
/// stands alone between white space.
fn skip_inline_image(data: &[u8], mut i: usize) -> usize {
    i += 1; // the single white-space byte after ID
    while i + 1 < data.len() {
        if data[i] == b'E'
            && data[i + 1] == b'I'
            && i > 0
            && is_white(data[i - 1])
            && (i + 2 >= data.len() || is_white(data[i + 2]) || is_delim(data[i + 2]))
        {
            return i + 2;
        }
        i += 1;
    }
    data.len()
}

/// Scan a content stream into the operators the font pass needs.
pub fn scan(data: &[u8]) -> Vec<Op<'_>> {
    let mut ops = Vec::new();
    let mut operands: Vec<Operand> = Vec::new();
    // Arrays being read: count of strings in each open array.
    let mut arrays: Vec<usize> = Vec::new();
    let mut dict_depth = 0usize;
    let mut i = 0;
    // Operands count only outside arrays and dictionaries; inside an array
    // only its strings matter (for TJ). Only the last few operands matter.
    fn push<'a>(operands: &mut Vec<Operand<'a>>, arrays: &[usize], dict_depth: usize, v: Operand<'a>) {
        if arrays.is_empty() && dict_depth == 0 {
            if operands.len() > 64 {
                operands.clear();
            }
            operands.push(v);
        }
    }
    while i < data.len() {
        let b = data[i];
        if is_white(b) {
            i += 1;
            continue;
        }
        match b {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b'(' => {
                i = skip_literal(data, i + 1);
                match arrays.last_mut() {
                    Some(n) => *n += 1,
                    None => push(&mut operands, &arrays, dict_depth, Operand::Other),
                }
            }
            b'<' if data.get(i + 1) == Some(&b'<') => {
                dict_depth += 1;
                i += 2;
            }
            b'>' if data.get(i + 1) == Some(&b'>') => {
                dict_depth = dict_depth.saturating_sub(1);
                i += 2;
                if dict_depth == 0 {
                    push(&mut operands, &arrays, dict_depth, Operand::Other);
                }
            }
            b'<' => {
                while i < data.len() && data[i] != b'>' {
                    i += 1;
                }
                i += 1;
                match arrays.last_mut() {
                    Some(n) => *n += 1,
                    None => push(&mut operands, &arrays, dict_depth, Operand::Other),
                }
            }
            b'[' => {
                arrays.push(0);
                i += 1;
            }
            b']' => {
                i += 1;
                if let Some(n) = arrays.pop() {
                    if arrays.is_empty() {
                        push(&mut operands, &arrays, dict_depth, Operand::Array { strings: n });
                    }
                }
            }
            b'/' => {
                let end = token_end(data, i + 1);
                let name = &data[i + 1..end];
                i = end;
                push(&mut operands, &arrays, dict_depth, Operand::Name(name));
            }
            b')' | b'>' | b'{' | b'}' => i += 1,
            _ => {
                let end = token_end(data, i).max(i + 1);
                let tok = &data[i..end];
                i = end;
                let numeric = tok.iter().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'+' | b'-'));
                if numeric || !arrays.is_empty() || dict_depth > 0 {
                    push(&mut operands, &arrays, dict_depth, Operand::Other);
                    continue;
                }
                if tok == b"true" || tok == b"false" || tok == b"null" {
                    push(&mut operands, &arrays, dict_depth, Operand::Other);
                    continue;
                }
                if tok == b"ID" {
                    i = skip_inline_image(data, i);
                    operands.clear();
                    continue;
                }
                ops.push(Op { operator: tok, operands: std::mem::take(&mut operands) });
            }
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_the_operators_the_font_pass_needs() {
        let content = b"q BT /F1 10 Tf (Hello \\) world) Tj [(a) 120 (b) -5 <0102>] TJ ET Q\n\
            BI /W 2 /H 2 /BPC 8 /CS /G ID \x00EI\xff\x01 EI\n/X0 Do % comment Tj\n";
        let ops = scan(content);
        let names: Vec<&[u8]> = ops.iter().map(|o| o.operator).collect();
        assert_eq!(names, vec![&b"q"[..], b"BT", b"Tf", b"Tj", b"TJ", b"ET", b"Q", b"BI", b"Do"]);
        assert_eq!(ops[2].operands[0], Operand::Name(b"F1"));
        assert_eq!(ops[4].operands[0], Operand::Array { strings: 3 });
        assert_eq!(ops[8].operands[0], Operand::Name(b"X0"));
    }
}
