//! plantrace patch: a direct parser for content streams.
//!
//! lopdf's `Content::decode` is a nom parser built from combinators; on
//! word-processor PDFs (text shown as runs of short hex strings in `TJ`
//! arrays) it was a fifth of all of plantrace's work, the largest single
//! cost after font parsing. This parser reads the same syntax in one pass
//! over the bytes and yields the same `Operation`s (a test in plantrace
//! compares the two on every page of its fixtures). It is lenient where
//! lopdf would give up: a stray delimiter is skipped, so one damaged
//! operator does not cost the rest of the page.

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Object, StringFormat};

/// Deepest nesting of arrays and dictionaries followed.
const MAX_DEPTH: usize = 64;

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\0')
}

fn is_delim(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !is_delim(b)
}

struct Reader<'a> {
    data: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.data.get(self.i).copied()
    }

    /// Skip white space and comments.
    fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if is_white(b) {
                self.i += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }

    fn token(&mut self) -> &'a [u8] {
        let start = self.i;
        while self.peek().is_some_and(is_regular) {
            self.i += 1;
        }
        &self.data[start..self.i]
    }

    fn name(&mut self) -> Vec<u8> {
        self.i += 1; // '/'
        let raw = self.token();
        let mut out = Vec::with_capacity(raw.len());
        let mut k = 0;
        while k < raw.len() {
            if raw[k] == b'#' && k + 2 < raw.len() {
                let hex = &raw[k + 1..k + 3];
                if let Some(v) = std::str::from_utf8(hex).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(v);
                    k += 3;
                    continue;
                }
            }
            out.push(raw[k]);
            k += 1;
        }
        out
    }

    fn literal(&mut self) -> Vec<u8> {
        self.i += 1; // '('
        let mut out = Vec::new();
        let mut depth = 1usize;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'\\' => {
                    let Some(c) = self.peek() else { break };
                    self.i += 1;
                    match c {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(b'\x08'),
                        b'f' => out.push(b'\x0c'),
                        b'0'..=b'7' => {
                            let mut v: u16 = (c - b'0') as u16;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u16;
                                        self.i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        // A backslash before an end of line continues the string.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.i += 1;
                            }
                        }
                        b'\n' => {}
                        other => out.push(other),
                    }
                }
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                _ => out.push(b),
            }
        }
        out
    }

    fn hex(&mut self) -> Vec<u8> {
        self.i += 1; // '<'
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(b) = self.peek() {
            self.i += 1;
            if b == b'>' {
                break;
            }
            let v = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => continue,
            };
            match high.take() {
                Some(h) => out.push(h << 4 | v),
                None => high = Some(v),
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    fn number(&mut self) -> Option<Object> {
        let start = self.i;
        if matches!(self.peek(), Some(b'+') | Some(b'-')) {
            self.i += 1;
        }
        let mut digits = 0;
        let mut dot = false;
        while let Some(b) = self.peek() {
            if b.is_ascii_digit() {
                digits += 1;
                self.i += 1;
            } else if b == b'.' && !dot {
                dot = true;
                self.i += 1;
            } else {
                break;
            }
        }
        let text = std::str::from_utf8(&self.data[start..self.i]).ok()?;
        if digits == 0 {
            return None;
        }
        if dot {
            text.parse::<f32>().ok().map(Object::Real)
        } else {
            match text.parse::<i64>() {
                Ok(v) => Some(Object::Integer(v)),
                Err(_) => text.parse::<f32>().ok().map(Object::Real),
            }
        }
    }

    /// An object at the current position, or None if what stands here is
    /// not an object (an operator, a stray delimiter).
    fn object(&mut self, depth: usize) -> Option<Object> {
        let b = self.peek()?;
        match b {
            b'/' => Some(Object::Name(self.name())),
            b'(' => Some(Object::String(self.literal(), StringFormat::Literal)),
            b'<' if self.data.get(self.i + 1) == Some(&b'<') => {
                self.i += 2;
                Some(Object::Dictionary(self.dict_body(depth + 1)))
            }
            b'<' => Some(Object::String(self.hex(), StringFormat::Hexadecimal)),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        None => break,
                        Some(b']') => {
                            self.i += 1;
                            break;
                        }
                        Some(_) if depth >= MAX_DEPTH => {
                            self.i += 1;
                        }
                        Some(_) => match self.object(depth + 1) {
                            Some(o) => items.push(o),
                            None => {
                                // Not an object: skip it rather than give up.
                                let before = self.i;
                                let _ = self.token();
                                if self.i == before {
                                    self.i += 1;
                                }
                            }
                        },
                    }
                }
                Some(Object::Array(items))
            }
            b'+' | b'-' | b'.' | b'0'..=b'9' => {
                let start = self.i;
                match self.number() {
                    Some(o) => Some(o),
                    None => {
                        self.i = start;
                        None
                    }
                }
            }
            _ if is_regular(b) => {
                let start = self.i;
                match self.token() {
                    b"true" => Some(Object::Boolean(true)),
                    b"false" => Some(Object::Boolean(false)),
                    b"null" => Some(Object::Null),
                    _ => {
                        self.i = start;
                        None
                    }
                }
            }
            _ => None,
        }
    }

    /// Key–value pairs up to `>>` (or `ID`, for an inline image).
    fn dict_body(&mut self, depth: usize) -> Dictionary {
        let mut dict = Dictionary::new();
        loop {
            self.skip_space();
            match self.peek() {
                None => break,
                Some(b'>') if self.data.get(self.i + 1) == Some(&b'>') => {
                    self.i += 2;
                    break;
                }
                Some(b'/') => {
                    let key = self.name();
                    self.skip_space();
                    match self.object(depth) {
                        Some(v) => dict.set(key, v),
                        None => break,
                    }
                }
                Some(_) => {
                    let before = self.i;
                    let _ = self.token();
                    if self.i == before {
                        self.i += 1;
                    }
                }
            }
        }
        dict
    }

    /// Skip an inline image: its parameters up to `ID`, then its data up to
    /// an `EI` standing between white space.
    fn skip_inline_image(&mut self) {
        loop {
            self.skip_space();
            match self.peek() {
                None => return,
                Some(b) if is_regular(b) && !matches!(b, b'+' | b'-' | b'.' | b'0'..=b'9') => {
                    let start = self.i;
                    if self.token() == b"ID" {
                        break;
                    }
                    if self.i == start {
                        self.i += 1;
                    }
                }
                Some(_) => {
                    if self.object(1).is_none() {
                        self.i += 1;
                    }
                }
            }
        }
        self.i += 1; // the white-space byte after ID
        let d = self.data;
        while self.i + 1 < d.len() {
            if d[self.i] == b'E'
                && d[self.i + 1] == b'I'
                && self.i > 0
                && is_white(d[self.i - 1])
                && (self.i + 2 >= d.len() || is_white(d[self.i + 2]) || is_delim(d[self.i + 2]))
            {
                self.i += 2;
                return;
            }
            self.i += 1;
        }
        self.i = d.len();
    }
}

/// Parse a content stream into operations.
pub fn decode(data: &[u8]) -> Content {
    let mut r = Reader { data, i: 0 };
    let mut operations = Vec::new();
    let mut operands = Vec::new();
    loop {
        r.skip_space();
        let Some(b) = r.peek() else { break };
        if let Some(o) = r.object(0) {
            operands.push(o);
            continue;
        }
        if !is_regular(b) {
            r.i += 1; // a stray delimiter
            continue;
        }
        let tok = r.token();
        if tok == b"BI" {
            r.skip_inline_image();
            operands.clear();
            operations.push(Operation { operator: "BI".into(), operands: Vec::new() });
            continue;
        }
        let operator = String::from_utf8_lossy(tok).into_owned();
        operations.push(Operation { operator, operands: std::mem::take(&mut operands) });
    }
    Content { operations }
}
