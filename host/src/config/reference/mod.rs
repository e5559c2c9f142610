//! The reference of router.toml, from the code: every table and key with its type, default,
//! bounds, whether a running router applies a change (or needs a restart), and what it is for.
//! One registry produces `switchyard config schema` (JSON Schema, for editors and CI),
//! `switchyard config reference` (docs/config.md) and switchyard.toml(5).
//!
//! It cannot drift from the parser or the compiler: the integer bounds and defaults are the
//! very constants `compile` checks values against ([`Int`]), and a test asks serde for each
//! raw struct's fields and compares them with the registry, key by key (`tests` below).

mod manpage;
mod markdown;
mod plugins;
mod schema;
mod server;
mod sinks;
mod sources;

pub use manpage::manpage;
pub use markdown::markdown;
pub use schema::schema;

pub use super::bounds::Int;

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

/// The whole file.
pub static ROOT: Table = Table {
    path: "",
    about: "router.toml: the router's sources, plugins, sinks and routes.",
    keys: &[
        Key::opt(
            "version",
            Ty::IntFrom { min: 1, max: 1 },
            Dflt::Int(1),
            "The config format's version. Only `1` exists; a later format will be told apart by it.",
        ),
        Key::opt(
            "server",
            Ty::Table(&server::SERVER),
            Dflt::None,
            "Listener, data dir, dedup, disk budget, quarantine and edge limits.",
        ),
        Key::opt(
            "admin",
            Ty::Table(&server::ADMIN),
            Dflt::None,
            "The operator console, `/metrics` and the admin API: who may use them and where they listen.",
        ),
        Key::opt(
            "cluster",
            Ty::Table(&server::CLUSTER),
            Dflt::None,
            "Several routers sharing NATS JetStream as outbox, dedup window and config store. The whole table is fixed while the router runs.",
        )
        .restart(),
        Key::opt(
            "plugins",
            Ty::Map(&Ty::Table(&plugins::PLUGIN)),
            Dflt::None,
            "The WebAssembly plugins, by id: normalizers, filters, transforms, deciders.",
        ),
        Key::opt(
            "sources",
            Ty::Array(&sources::SOURCE),
            Dflt::None,
            "Where events come from: an HTTP path, a websocket feed or a NATS subject, and the plugins they go through.",
        ),
        Key::opt(
            "sinks",
            Ty::Map(&sinks::SINK),
            Dflt::None,
            "Where events go, by id: webhooks (durable, retried), JSON Lines files, NATS subjects.",
        ),
        Key::opt(
            "routes",
            Ty::Array(&sinks::ROUTE),
            Dflt::None,
            "Which events go to which sinks; an event matching no route is counted as unrouted.",
        ),
    ],
};

/// Every table reachable from [`ROOT`], each once, in reference order.
pub fn tables() -> Vec<&'static Table> {
    fn walk(table: &'static Table, out: &mut Vec<&'static Table>) {
        if out.iter().any(|t| std::ptr::eq(*t, table)) {
            return;
        }
        out.push(table);
        for key in table.keys {
            for child in children(&key.ty) {
                walk(child, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&ROOT, &mut out);
    out
}

/// The tables a type contains.
fn children(ty: &Ty) -> Vec<&'static Table> {
    match *ty {
        Ty::Table(t) | Ty::Array(t) | Ty::ListOrTable(t) => vec![t],
        Ty::Tagged(variants) => variants.iter().map(|(_, t)| *t).collect(),
        Ty::List(inner) | Ty::Map(inner) => children(inner),
        _ => Vec::new(),
    }
}

/// The keys a running router cannot change (a reload changing one is rejected), as
/// `table.key` paths.
pub fn restart_keys() -> Vec<String> {
    let mut out = Vec::new();
    for table in tables() {
        for key in table.keys {
            if key.reload == Reload::Restart {
                out.push(join(table.path, key.name));
            }
        }
    }
    out
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

#[cfg(test)]
mod tests;
