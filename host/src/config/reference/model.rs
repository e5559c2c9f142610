//! The registry's model — types, defaults, whether a change reloads — and its root table,
//! which names every section.

pub use crate::config::bounds::Int;

/// A key's value type.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// An integer within bounds (the compiler's own constant).
    Int(&'static Int),
    /// An integer whose bounds or default depend on another key (said in `about`).
    IntFrom {
        /// The smallest value allowed.
        min: i64,
        /// The largest value allowed.
        max: i64,
    },
    /// A number.
    Float {
        /// The smallest value allowed.
        min: f64,
        /// The largest value allowed.
        max: f64,
    },
    /// true / false.
    Bool,
    /// Text.
    Str,
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// One of the strings this function lists (schema enums: categories, actions).
    EnumFn(fn() -> Vec<&'static str>),
    /// A list of strings (with `Enum`: of these).
    List(&'static Ty),
    /// A table with the keys of `Table`.
    Table(&'static Table),
    /// A table of values keyed by a name the operator chooses (`[plugins.<id>]`,
    /// `secrets = { hmac = {…} }`, webhook `headers`).
    Map(&'static Ty),
    /// An array of tables (`[[sources]]`).
    Array(&'static Table),
    /// A table of one of these shapes, told apart by its `type` key.
    Tagged(&'static [(&'static str, &'static Table)]),
    /// A list whose items are text or a table (`samples`).
    ListOrTable(&'static Table),
    /// Any table: passed on as it is (plugin settings).
    AnyTable,
}

/// What the key is when it is absent.
#[derive(Debug, Clone, Copy)]
pub enum Dflt {
    /// Required, or absent means "none".
    None,
    /// This integer ([`Ty::Int`] keys take theirs from [`Int`]).
    Int(i64),
    /// This number.
    Float(f64),
    /// This boolean.
    Bool(bool),
    /// This text (also enums).
    Str(&'static str),
    /// Described, not a literal (e.g. "one second's worth of `per_second`").
    Said(&'static str),
}

/// Whether a running router applies a change to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reload {
    /// Applied by a hot reload (file change, SIGHUP, POST /admin/reload).
    Live,
    /// A reload with a changed value is rejected: restart to apply.
    Restart,
}

impl Reload {
    /// How the reference names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Reload::Live => "live",
            Reload::Restart => "restart",
        }
    }
}

/// One key.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Its name in the table.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether the table is incomplete without it.
    pub required: bool,
    /// Its value when absent.
    pub default: Dflt,
    /// Whether a reload applies it.
    pub reload: Reload,
    /// What it is for (one or two sentences, Markdown).
    pub about: &'static str,
}

/// A table of keys.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Where it is, as router.toml spells it (`server.limits`, `sources.websocket`).
    pub path: &'static str,
    /// What it is for.
    pub about: &'static str,
    /// Its keys, in the order the reference lists them.
    pub keys: &'static [Key],
}

impl Key {
    /// An optional key, applied live.
    pub const fn opt(name: &'static str, ty: Ty, default: Dflt, about: &'static str) -> Key {
        Key {
            name,
            ty,
            required: false,
            default,
            reload: Reload::Live,
            about,
        }
    }

    /// An integer key whose bounds and default are the compiler's.
    pub const fn int(name: &'static str, int: &'static Int, about: &'static str) -> Key {
        Key::opt(name, Ty::Int(int), Dflt::Int(int.default), about)
    }

    /// A required key.
    pub const fn req(name: &'static str, ty: Ty, about: &'static str) -> Key {
        Key {
            required: true,
            ..Key::opt(name, ty, Dflt::None, about)
        }
    }

    /// The same key, needing a restart to change.
    pub const fn restart(self) -> Key {
        Key {
            reload: Reload::Restart,
            ..self
        }
    }
}
