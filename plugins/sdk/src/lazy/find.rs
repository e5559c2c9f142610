//! Finding the next byte of interest eight bytes at a time.
//!
//! Why: the lazy reader's walks (where a string ends, where a value ends, the compact copy
//! into extras) test every byte of the text. In a guest each of those tests is a load, a few
//! compares and a branch, plus the engine's interruption check on every loop turn; testing a
//! whole `u64` word for "any byte of interest" with the classic bit tricks skips the plain
//! runs (names, dates, URLs, numbers) in an eighth of the turns. Portable Rust: the same code
//! runs in the guest and natively.

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `word` that is zero. The lowest flagged byte is always a
/// true zero (a borrow can only flag bytes above a real one), which is all [`find`] uses.
#[inline(always)]
const fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LO) & !word & HI
}

/// Flags the bytes of `word` equal to `byte` (see [`zero_bytes`]).
#[inline(always)]
pub(super) const fn eq(word: u64, byte: u8) -> u64 {
    zero_bytes(word ^ (LO * byte as u64))
}

/// Flags the bytes of `word` below `limit` (at most 0x80; see [`zero_bytes`]).
#[inline(always)]
pub(super) const fn below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(LO * limit as u64) & !word & HI
}

/// Flags `{`, `}`, `[` and `]`: setting bit 5 maps `[` to `{` and `]` to `}`, and no other
/// byte onto either.
#[inline(always)]
pub(super) const fn bracket(word: u64) -> u64 {
    let folded = word | (LO * 0x20);
    eq(folded, b'{') | eq(folded, b'}')
}

/// The index of the first byte at or after `from` that `interesting` flags in its word
/// (`word`) or accepts on its own (`byte`, for the last few bytes); `bytes.len()` when none.
/// The two tests must agree.
#[inline(always)]
pub(super) fn find(bytes: &[u8], from: usize, word: impl Fn(u64) -> u64, byte: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let flags = word(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !byte(bytes[i]) {
        i += 1;
    }
    i.min(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator: the test needs variety, not cryptography.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn word_search_finds_what_a_byte_loop_finds() {
        let alphabet = b"ab0 \t\n\"\\:{}[],/\x01\x7f\xc3";
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (xorshift(&mut state) % 40) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[(xorshift(&mut state) % alphabet.len() as u64) as usize])
                .collect();
            let from = if len == 0 {
                0
            } else {
                (xorshift(&mut state) % len as u64) as usize
            };
            let naive = |pred: &dyn Fn(u8) -> bool| (from..text.len()).find(|&i| pred(text[i])).unwrap_or(text.len());
            let quote = |b: u8| matches!(b, b'"' | b'\\' | b':');
            assert_eq!(
                find(&text, from, |w| eq(w, b'"') | eq(w, b'\\') | eq(w, b':'), quote),
                naive(&quote),
                "{text:?} from {from}"
            );
            let gap = |b: u8| b < 0x21 || b == b'"';
            assert_eq!(
                find(&text, from, |w| below(w, 0x21) | eq(w, b'"'), gap),
                naive(&gap),
                "{text:?} from {from}"
            );
            let structure = |b: u8| matches!(b, b'"' | b'{' | b'}' | b'[' | b']');
            assert_eq!(
                find(&text, from, |w| eq(w, b'"') | bracket(w), structure),
                naive(&structure),
                "{text:?} from {from}"
            );
        }
    }
}
