//! The plugin author's kit behind `switchyard plugin new | build | inspect`: project
//! scaffolds for Rust, Python, JavaScript and C, the build of each (the right toolchain with
//! the right flags, ending in a component), what a built component imports and exports, and
//! TypeScript typings of the `router:plugin` WIT for JavaScript authors.
//!
//! It carries its own copy of the WIT and of the Rust guest SDK (embedded at compile time
//! from `wit/` and `plugins/sdk/`), so a project it writes builds outside this repository.

pub mod build;
mod c;
pub mod componentize;
mod diagnose;
pub mod inspect;
pub mod manifest;
pub mod scaffold;
pub mod schema;
pub mod section;
pub mod signature;
pub mod toolchain;
pub mod typings;
pub mod wit;

/// What a plugin does: the world it implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Vendor request → normalized events (world `normalizer`).
    Normalizer,
    /// Keep or drop events (world `filter`).
    Filter,
    /// Rewrite events (world `transform`).
    Transform,
    /// Rule on door access (world `decider`).
    Decider,
}

impl Kind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [Kind; 4] = [Kind::Normalizer, Kind::Filter, Kind::Transform, Kind::Decider];

    /// Its name in router.toml (`kind = "…"`), which is also its world's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Normalizer => "normalizer",
            Kind::Filter => "filter",
            Kind::Transform => "transform",
            Kind::Decider => "decider",
        }
    }

    /// The interface it exports besides `setup-api`.
    pub fn interface(self) -> &'static str {
        match self {
            Kind::Normalizer => "normalize-api",
            Kind::Filter => "filter-api",
            Kind::Transform => "transform-api",
            Kind::Decider => "decide-api",
        }
    }

    /// Parses a router.toml kind name.
    pub fn parse(name: &str) -> anyhow::Result<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name).ok_or_else(|| {
            anyhow::anyhow!("unknown plugin kind `{name}`; expected normalizer, filter, transform or decider")
        })
    }
}

/// The language of a plugin project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust with wit-bindgen and the guest SDK, built for wasm32-unknown-unknown.
    Rust,
    /// Python with componentize-py.
    Python,
    /// JavaScript with componentize-js.
    Js,
    /// C with wit-bindgen's C generator, clang and wasi-libc.
    C,
}

impl Lang {
    /// Every language.
    pub const ALL: [Lang; 4] = [Lang::Rust, Lang::Python, Lang::Js, Lang::C];

    /// Its name on the command line and in `switchyard-plugin.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Python => "python",
            Lang::Js => "js",
            Lang::C => "c",
        }
    }

    /// Parses a language name.
    pub fn parse(name: &str) -> anyhow::Result<Lang> {
        match name {
            "rust" | "rs" => Ok(Lang::Rust),
            "python" | "py" => Ok(Lang::Python),
            "js" | "javascript" => Ok(Lang::Js),
            "c" => Ok(Lang::C),
            other => anyhow::bail!("unknown language `{other}`; expected rust, python, js or c"),
        }
    }
}
