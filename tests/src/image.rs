//! Real image bytes for tests that need a picture a browser can decode (the vendor samples
//! carry truncated stubs).

/// A PNG image (8-bit RGB) drawn by `pixel(x, y)`: real image bytes for tests that need a
/// picture a browser can decode (the vendor samples carry truncated stubs).
pub fn png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    use std::io::Write;
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // no filter
        for x in 0..width {
            raw.extend_from_slice(&pixel(x, y));
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("deflate");
    let idat = z.finish().expect("deflate");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A 96×96 portrait-like picture (a head and shoulders on a plain background) as a PNG.
pub fn portrait_png() -> Vec<u8> {
    png(96, 96, |x, y| {
        let (fx, fy) = (x as f32 - 48.0, y as f32 - 40.0);
        let head = fx * fx / 400.0 + fy * fy / 576.0 <= 1.0;
        let (sx, sy) = (x as f32 - 48.0, y as f32 - 110.0);
        let shoulders = sx * sx / 1600.0 + sy * sy / 1600.0 <= 1.0;
        if head {
            [224, 180, 150]
        } else if shoulders {
            [40, 70, 120]
        } else {
            [205, 215, 228]
        }
    })
}
