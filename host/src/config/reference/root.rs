//! The root table, which names every section, and the walks over the whole registry.

use super::model::*;
use super::{plugins, server, sinks, sources};

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
            "trust",
            Ty::Table(&plugins::TRUST),
            Dflt::None,
            "Whose signed plugins this router runs, and whether plugins must be signed.",
        ),
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
