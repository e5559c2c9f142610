//! A component's custom sections (the settings schema, the signature), found and replaced
//! by walking the component's top-level section headers (nested modules stay inside their
//! section's bytes), so reading one from a 20 MB Python component costs microseconds.
//!
//! A custom section may sit anywhere among a component's sections and changes nothing it
//! does, so adding or replacing one keeps the component valid.

use anyhow::{Context, bail};

/// The payload of the top-level custom section `name`, if the component has one.
pub fn find<'a>(wasm: &'a [u8], name: &str) -> anyhow::Result<Option<&'a [u8]>> {
    for section in sections(wasm)? {
        let (id, found, whole) = section?;
        if id == 0 && found == Some(name.as_bytes()) {
            // `whole` is id, size, name length, name, payload: the payload is its tail.
            let payload_len = payload_len(whole);
            return Ok(Some(&whole[whole.len() - payload_len..]));
        }
    }
    Ok(None)
}

/// `wasm` without its custom sections `name`, then with `payload` as the last section of
/// that name (none when `payload` is `None`).
pub fn replace(wasm: &[u8], name: &str, payload: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(wasm.len() + payload.map_or(0, <[u8]>::len) + 64);
    out.extend_from_slice(wasm.get(..8).context("not a WebAssembly binary")?);
    for whole in without(wasm, name)? {
        out.extend_from_slice(whole?);
    }
    if let Some(payload) = payload {
        let mut body = Vec::with_capacity(payload.len() + name.len() + 5);
        leb(&mut body, name.len());
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(payload);
        out.push(0);
        leb(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    Ok(out)
}

/// Every top-level section's bytes but the custom sections `name`, in order (after the
/// 8-byte header, which the caller adds): what a signature over "the component minus its
/// signature section" covers, without copying the component.
pub fn without<'a>(
    wasm: &'a [u8],
    name: &'a str,
) -> anyhow::Result<impl Iterator<Item = anyhow::Result<&'a [u8]>> + 'a> {
    Ok(sections(wasm)?.filter_map(move |section| match section {
        Ok((0, Some(found), _)) if found == name.as_bytes() => None,
        Ok((_, _, whole)) => Some(Ok(whole)),
        Err(e) => Some(Err(e)),
    }))
}

fn payload_len(whole: &[u8]) -> usize {
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
