//! A line diff for the console's reload history: what changed in router.toml between the
//! running config and the one a reload tried, as unified-diff lines with a little context.

/// Files longer than this (either side) are not diffed line by line (the LCS table is
/// quadratic); the summary says so instead.
const MAX_LINES: usize = 4000;
/// Unchanged lines shown around a change.
const CONTEXT: usize = 3;

/// `-`/`+`/` ` prefixed lines, with `@@ line N` headers between hunks; empty when equal.
pub(crate) fn unified(old: &str, new: &str) -> Vec<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a == b {
        return Vec::new();
    }
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        return vec![format!(
            "@@ {} → {} lines; too long to compare line by line",
            a.len(),
            b.len()
        )];
    }
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (kind, text, line in the new file)
    let mut ops: Vec<(char, &str, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i], j + 1));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i], j + 1));
            i += 1;
        } else {
            ops.push(('+', b[j], j + 1));
            j += 1;
        }
    }
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.0 != ' ')
        .map(|(k, _)| k)
        .collect();
    let near = |k: usize| changed.iter().any(|&c| k + CONTEXT >= c && k <= c + CONTEXT);
    let mut out = Vec::new();
    let mut last_shown: Option<usize> = None;
    for (k, (kind, text, line)) in ops.iter().enumerate() {
        if !near(k) {
            continue;
        }
        if last_shown.is_none_or(|l| l + 1 != k) {
            out.push(format!("@@ line {line}"));
        }
        out.push(format!("{kind}{text}"));
        last_shown = Some(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified;

    #[test]
    fn shows_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nb\nc\nd\ne\nF\ng\nh\ni\nj\nk\n";
        let diff = unified(old, new);
        assert_eq!(
            diff,
            vec!["@@ line 3", " c", " d", " e", "-f", "+F", " g", " h", " i", " j", "+k"]
        );
        assert!(unified(old, old).is_empty());
    }
}
