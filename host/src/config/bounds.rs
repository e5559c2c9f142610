//! The bounds and default of an integer key: the one value the compiler checks a key against
//! (`Ctx::key`) and the reference documents (`reference`), so the two cannot disagree.

/// An integer key's bounds and default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int {
    /// The name error messages use (`limits.max_connections`).
    pub label: &'static str,
    /// The value when the key is absent.
    pub default: i64,
    /// The smallest value allowed.
    pub min: i64,
    /// The largest value allowed.
    pub max: i64,
}
