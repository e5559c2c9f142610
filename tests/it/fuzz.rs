//! The fuzz targets (`router_tests::fuzz`) on their seeds, on every file in
//! `tests/fixtures/fuzz-regressions/<target>/`, and on a few hundred deterministic mutations of
//! the seeds: a smoke run of each target on every `make test`. The coverage-guided run is
//! `scripts/fuzz.sh` (cargo-fuzz, libFuzzer).

use router_tests::fuzz;

/// A small deterministic generator (xorshift64*), so a failing mutation is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `input` (bit flip, byte set, truncation, insertion, deletion or a splice
/// with `other`), the way libFuzzer's basic mutators work.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let rounds = 1 + rng.below(4);
    for _ in 0..rounds {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = at.min(out.len() - 1);
                out[i] = [b'"', b'{', b'}', b'[', b']', b',', b':', b'\\', 0, 0xff, b'9', b'-'][rng.below(12)];
            }
            2 => out.truncate(at),
            3 => {
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.splice(at..at, bytes);
            }
            4 if !out.is_empty() => {
                let end = (at + 1 + rng.below(32)).min(out.len());
                out.drain(at.min(end)..end);
            }
            _ => {
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(256)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
        }
    }
    out
}

fn smoke(target: &str, mutations: usize) {
    let seeds = fuzz::seeds(target);
    assert!(!seeds.is_empty(), "{target} has seeds");
    for (path, bytes) in &seeds {
        eprintln!("{target}: seed {}", path.display());
        fuzz::run(target, bytes);
    }
    let regressions = router_tests::workspace()
        .join("tests/fixtures/fuzz-regressions")
        .join(target);
    for entry in std::fs::read_dir(&regressions).into_iter().flatten().flatten() {
        eprintln!("{target}: regression {}", entry.path().display());
        fuzz::run(target, &std::fs::read(entry.path()).expect("regression input"));
    }
    let mut rng = Rng(0x5eed ^ target.len() as u64);
    for i in 0..mutations {
        let (_, a) = &seeds[rng.below(seeds.len())];
        let (_, b) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, a, b);
        let outcome = std::panic::catch_unwind(|| fuzz::run(target, &input));
        if outcome.is_err() {
            panic!("{target}: mutation {i} failed; input (base64): {}", base64_of(&input));
        }
    }
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn every_target_has_a_cargo_fuzz_entry() {
    for target in fuzz::targets() {
        let file = router_tests::workspace()
            .join("fuzz/fuzz_targets")
            .join(format!("{target}.rs"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(text.contains(&format!("fuzz::run(\"{target}\"")), "{}", file.display());
    }
}

#[test]
fn config_survives_mutations() {
    smoke("config", 2000);
}

#[test]
fn capture_survives_mutations() {
    smoke("capture", 2000);
}

#[test]
fn body_survives_mutations() {
    smoke("body", 1000);
}

#[test]
fn vendor_normalizers_survive_mutations() {
    for target in fuzz::targets().iter().filter(|t| t.starts_with("normalize_")) {
        smoke(target, 400);
    }
}
