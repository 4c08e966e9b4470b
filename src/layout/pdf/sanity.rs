//! Structural checks run before a PDF reaches `pdf-extract`.
//!
//! `pdf-extract` follows the document's references without guarding against
//! cycles: a form XObject that draws itself recurses until the stack
//! overflows (which no `catch_unwind` can survive), and a page whose Parent
//! chain loops makes its inherited-attribute lookup spin forever. Worker
//! isolation contains both, but a file should fail fast and say why, and
//! `inspect` runs in-process. So: repair what can be repaired (a Parent
//! cycle is cut, a missing MediaBox is given the A4 default, with a
//! warning), and refuse what cannot (a form XObject cycle or absurd
//! nesting) with a message a person can act on.

use std::collections::{BTreeMap, HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::super::LayoutError;

/// Deepest form-XObject nesting accepted (real documents use a few levels).
const MAX_FORM_DEPTH: usize = 24;
/// Longest Parent chain followed from a page.
pub const MAX_PARENT_CHAIN: usize = 64;

/// Deflate inflates at most 1032 bytes from one.
const MAX_DEFLATE_RATIO: u64 = 1032;

/// Why a stream of `doc` would inflate past `cap` bytes, if one would.
///
/// lopdf inflates a stream whole into memory, and a stream compressed twice
/// (`/Filter [/FlateDecode /FlateDecode]`) can hold gigabytes in kilobytes.
/// Worker isolation contains that, but where it ends depended on the
/// allocator (an abort, or a quietly truncated stream and a misleading "no
/// text layer"). So the streams that could inflate past the cap (a chain of
/// filters, or one large enough at deflate's maximum ratio) are inflated
/// first into nothing, counting, stopping just past the cap.
pub fn inflation_trouble(doc: &Document, cap: u64) -> Option<String> {
    use std::io::Read;
    for (id, object) in &doc.objects {
        let Object::Stream(s) = object else { continue };
        let filters = s.filters().unwrap_or_default();
        if filters.is_empty() || filters.iter().any(|f| *f != b"FlateDecode") {
            continue;
        }
        let most = (s.content.len() as u64).saturating_mul(MAX_DEFLATE_RATIO.saturating_pow(filters.len() as u32));
        if most <= cap {
            continue;
        }
        let mut reader: Box<dyn Read + '_> = Box::new(s.content.as_slice());
        for _ in &filters {
            reader = Box::new(flate2::read::ZlibDecoder::new(reader));
        }
        // A damaged stream stops early; that is for the reader to report.
        let inflated = std::io::copy(&mut reader.take(cap + 1), &mut std::io::sink()).unwrap_or(0);
        if inflated > cap {
            return Some(format!("a stream (object {} {}) inflates to more than {} MiB", id.0, id.1, cap >> 20));
        }
    }
    None
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    match o {
        Object::Reference(id) => doc.get_object(*id).ok(),
        o => Some(o),
    }
}

/// The form XObjects a resource dictionary names, by object id.
fn forms(doc: &Document, resources: Option<&Dictionary>) -> Vec<(ObjectId, Option<ObjectId>)> {
    let mut out = Vec::new();
    let Some(res) = resources else { return out };
    let Some(xobjects) = res.get(b"XObject").ok().and_then(|x| deref(doc, x)).and_then(|x| x.as_dict().ok()) else {
        return out;
    };
    for (_, x) in xobjects.iter() {
        let Object::Reference(id) = x else { continue };
        let Ok(Object::Stream(s)) = doc.get_object(*id) else { continue };
        if s.dict.get(b"Subtype").ok().and_then(|t| t.as_name().ok()) != Some(b"Form".as_slice()) {
            continue;
        }
        let res = match s.dict.get(b"Resources") {
            Ok(Object::Reference(r)) => Some(*r),
            _ => None,
        };
        out.push((*id, res));
    }
    out
}

fn resources_of(doc: &Document, id: ObjectId) -> Option<&Dictionary> {
    match doc.get_object(id).ok()? {
        Object::Stream(s) => s.dict.get(b"Resources").ok().and_then(|r| deref(doc, r)).and_then(|r| r.as_dict().ok()),
        Object::Dictionary(d) => d.get(b"Resources").ok().and_then(|r| deref(doc, r)).and_then(|r| r.as_dict().ok()),
        _ => None,
    }
}

/// Whether the forms reachable from `resources` nest cyclically or too deep
/// (depth-first search with colours: linear in the forms, however shared).
/// A form without its own resources draws with its parent's, as pdf-extract
/// does, so a form can reach itself that way too.
fn form_trouble<'a>(doc: &'a Document, resources: Option<&'a Dictionary>) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        OnPath,
        Done,
    }
    let children = |id: ObjectId, inherited: Option<&'a Dictionary>| {
        let own = resources_of(doc, id).or(inherited);
        (own, forms(doc, own).into_iter().map(|(c, _)| c).collect::<Vec<_>>())
    };
    let mut colour: HashMap<ObjectId, Colour> = HashMap::new();
    for (root, _) in forms(doc, resources) {
        if colour.contains_key(&root) {
            continue;
        }
        colour.insert(root, Colour::OnPath);
        let (res, kids) = children(root, resources);
        let mut stack: Vec<(ObjectId, Option<&Dictionary>, Vec<ObjectId>, usize)> = vec![(root, res, kids, 0)];
        while let Some(top) = stack.last_mut() {
            if top.3 < top.2.len() {
                let child = top.2[top.3];
                top.3 += 1;
                let inherited = top.1;
                match colour.get(&child) {
                    Some(Colour::OnPath) => {
                        return Some(format!("form XObject {} {} draws itself (a reference cycle)", child.0, child.1))
                    }
                    Some(Colour::Done) => {}
                    None => {
                        if stack.len() >= MAX_FORM_DEPTH {
                            return Some(format!("form XObjects are nested more than {MAX_FORM_DEPTH} deep"));
                        }
                        colour.insert(child, Colour::OnPath);
                        let (res, kids) = children(child, inherited);
                        stack.push((child, res, kids, 0));
                    }
                }
            } else {
                colour.insert(top.0, Colour::Done);
                stack.pop();
            }
        }
    }
    None
}

/// Check and repair a document in place; returns warnings.
pub fn check(doc: &mut Document, pages: &BTreeMap<u32, ObjectId>) -> Result<Vec<String>, LayoutError> {
    let mut warnings = Vec::new();
    let mut cut: Vec<ObjectId> = Vec::new();
    let mut no_media: Vec<ObjectId> = Vec::new();
    for (&n, &page) in pages {
        // Walk the Parent chain: find a MediaBox, note a cycle.
        let mut seen = HashSet::new();
        let mut node = page;
        let mut media = false;
        for _ in 0..MAX_PARENT_CHAIN {
            if !seen.insert(node) {
                cut.push(node);
                break;
            }
            let Ok(dict) = doc.get_dictionary(node) else { break };
            media |= dict.has(b"MediaBox");
            match dict.get(b"Parent").ok().and_then(|p| p.as_reference().ok()) {
                Some(parent) => node = parent,
                None => break,
            }
        }
        if !media {
            no_media.push(page);
        }
        let resources = {
            let mut r = None;
            let mut node = page;
            let mut hops = HashSet::new();
            while hops.insert(node) && hops.len() < MAX_PARENT_CHAIN {
                let Ok(dict) = doc.get_dictionary(node) else { break };
                if let Some(res) =
                    dict.get(b"Resources").ok().and_then(|x| deref(doc, x)).and_then(|x| x.as_dict().ok())
                {
                    r = Some(res);
                    break;
                }
                match dict.get(b"Parent").ok().and_then(|p| p.as_reference().ok()) {
                    Some(p) => node = p,
                    None => break,
                }
            }
            r
        };
        if let Some(trouble) = form_trouble(doc, resources) {
            return Err(LayoutError::Corrupt(format!(
                "page {n}: {trouble}; the file is damaged or hostile: re-export it from its source, or try repairing it with qpdf in.pdf out.pdf"
            )));
        }
    }
    cut.sort();
    cut.dedup();
    for node in &cut {
        if let Ok(dict) = doc.get_dictionary_mut(*node) {
            dict.remove(b"Parent");
        }
    }
    if !cut.is_empty() {
        warnings.push("the page tree's Parent links form a cycle; the cycle was cut to read the pages".into());
    }
    for page in &no_media {
        if let Ok(dict) = doc.get_dictionary_mut(*page) {
            dict.set("MediaBox", vec![0.into(), 0.into(), 595.into(), 842.into()]);
        }
    }
    if !no_media.is_empty() {
        warnings.push(format!("{} pages have no MediaBox; A4 was assumed", no_media.len()));
    }
    Ok(warnings)
}
