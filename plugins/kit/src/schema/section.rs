//! The schema's place in a component: a custom section (`switchyard:settings-schema`) among
//! the component's top-level sections, found and replaced by walking those sections' headers
//! (nested modules stay inside their section's bytes), so reading it from a 20 MB Python
//! component costs microseconds.

use super::{SECTION, Schema};
use anyhow::{Context, bail};

/// The schema a component carries, if any.
pub fn read(wasm: &[u8]) -> anyhow::Result<Option<Schema>> {
    match find_section(wasm)? {
        Some(bytes) => Schema::from_section(bytes).map(Some),
        None => Ok(None),
    }
}

/// `wasm` with `schema` as its settings section (replacing one it had; none for an empty
/// schema). A custom section may sit anywhere among a component's sections and changes
/// nothing it does, so appending one keeps the component valid.
pub fn embed(wasm: &[u8], schema: &Schema) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(wasm.len() + 256);
    out.extend_from_slice(wasm.get(..8).context("not a WebAssembly binary")?);
    for section in sections(wasm)? {
        let (id, name, whole) = section?;
        if !(id == 0 && name == Some(SECTION.as_bytes())) {
            out.extend_from_slice(whole);
        }
    }
    if !schema.is_empty() {
        let payload = schema.to_section();
        let mut body = Vec::with_capacity(payload.len() + SECTION.len() + 5);
        leb(&mut body, SECTION.len());
        body.extend_from_slice(SECTION.as_bytes());
        body.extend_from_slice(&payload);
        out.push(0);
        leb(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    Ok(out)
}

fn find_section(wasm: &[u8]) -> anyhow::Result<Option<&[u8]>> {
    for section in sections(wasm)? {
        let (id, name, whole) = section?;
        if id == 0 && name == Some(SECTION.as_bytes()) {
            // `whole` is id, size, name length, name, payload: the payload is its tail.
            let payload_len = section_payload_len(whole);
            return Ok(Some(&whole[whole.len() - payload_len..]));
        }
    }
    Ok(None)
}

fn section_payload_len(whole: &[u8]) -> usize {
    let mut at = 1;
    let (size, _) = read_leb(whole, &mut at).unwrap_or_default();
    let start = at;
    let (name_len, _) = read_leb(whole, &mut at).unwrap_or_default();
    size - (at - start) - name_len
}

type Section<'a> = (u8, Option<&'a [u8]>, &'a [u8]);

/// The top-level sections of a module or component (nested modules stay inside their
/// section's bytes): id, the name of a custom section, and the section's whole bytes.
fn sections(wasm: &[u8]) -> anyhow::Result<impl Iterator<Item = anyhow::Result<Section<'_>>>> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        bail!("not a WebAssembly binary");
    }
    let mut at = 8;
    Ok(std::iter::from_fn(move || {
        if at >= wasm.len() {
            return None;
        }
        let start = at;
        let id = wasm[at];
        at += 1;
        let Some((size, _)) = read_leb(wasm, &mut at) else {
            at = wasm.len();
            return Some(Err(anyhow::anyhow!("a section at byte {start} has a broken size")));
        };
        let end = at.saturating_add(size);
        if end > wasm.len() {
            at = wasm.len();
            return Some(Err(anyhow::anyhow!("a section at byte {start} runs past the end")));
        }
        let name = if id == 0 {
            let mut p = at;
            read_leb(wasm, &mut p).and_then(|(len, _)| wasm.get(p..p.checked_add(len)?).filter(|_| p + len <= end))
        } else {
            None
        };
        at = end;
        Some(Ok((id, name, &wasm[start..end])))
    }))
}

fn read_leb(bytes: &[u8], at: &mut usize) -> Option<(usize, usize)> {
    let start = *at;
    let mut value: u64 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some((usize::try_from(value).ok()?, *at - start));
        }
    }
    None
}

fn leb(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
