//! The versions of everything switchyard writes and reads back later: the outbox database, the
//! quarantine's entries, the cluster's release records. Each carries its version; whoever opens
//! one checks it here. Older: read as it is or migrated in place (the outbox). Newer: refused
//! with a message naming both versions, because guessing at a format written by a later
//! release is how events get lost. docs/upgrading.md is the operator's side of this.

use std::fmt;

/// One versioned format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// What it is, for messages.
    pub name: &'static str,
    /// The version this build writes (and the newest it reads).
    pub current: u32,
    /// What changed at each version, oldest first (`--version`, docs/upgrading.md).
    pub history: &'static [&'static str],
}

/// `outbox.db` (SQLite `PRAGMA user_version`).
pub const OUTBOX: Format = Format {
    name: "outbox",
    current: 2,
    history: &[
        "1 (0.1.0): outbox and dead tables",
        "2 (0.2.0): a meta table naming the release that created and last opened the file",
    ],
};

/// One quarantine entry (`quarantine/<id>.json`, its `format` member; absent: 1).
pub const QUARANTINE: Format = Format {
    name: "quarantine entry",
    current: 1,
    history: &["1 (0.1.0): the request, its headers (secrets redacted), status and reason"],
};

/// A release published to the cluster (`switchyard publish`; its `format` member; absent: 1).
/// A release that uses nothing of version 3 is still written as 2, so nodes of 0.2.0 keep
/// taking it.
pub const CLUSTER_RELEASE: Format = Format {
    name: "cluster release",
    current: 3,
    history: &[
        "1 (0.1.0): config text with plugin paths rewritten to files/<sha256>.wasm",
        "2 (0.2.0): the config may name built-in plugins (`builtin = \"…\"`)",
        "3 (0.3.0): the config may have `[trust]`, plugin `signers` and registry `source`s; trusted key files travel as files/<sha256>.pub",
    ],
};

/// A component's signature (its `switchyard:signature` section, member `format`).
pub const PLUGIN_SIGNATURE: Format = Format {
    name: "plugin signature",
    current: router_plugin_kit::signature::FORMAT,
    history: &["1 (0.3.0): ed25519 over the digest of the component without the section, and the claims"],
};

/// Every format, for `--version` and the docs.
pub const ALL: &[Format] = &[OUTBOX, QUARANTINE, CLUSTER_RELEASE, PLUGIN_SIGNATURE];

/// What opening a thing of version `found` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Written by this version.
    Current,
    /// Written by an older release: migrate (or read as is) from this version.
    Older(u32),
}

/// A thing written by a newer release than this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooNew {
    /// What it is.
    pub name: &'static str,
    /// Its version.
    pub found: u32,
    /// The newest this build reads.
    pub current: u32,
    /// Where it is (a path, a record key).
    pub at: String,
    /// The release that wrote it, when recorded.
    pub written_by: Option<String>,
}

impl fmt::Display for TooNew {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} is format {}", self.name, self.at, self.found)?;
        if let Some(by) = &self.written_by {
            write!(f, ", written by switchyard {by}")?;
        }
        write!(
            f,
            "; this switchyard ({}) reads {} formats up to {}. Run the newer release on it, or see \
             docs/upgrading.md about going back",
            env!("CARGO_PKG_VERSION"),
            self.name,
            self.current
        )
    }
}

impl std::error::Error for TooNew {}

impl Format {
    /// Checks a version found on disk (or in a record) at `at`.
    pub fn open(&self, found: u32, at: impl fmt::Display, written_by: Option<String>) -> Result<Open, TooNew> {
        if found > self.current {
            return Err(TooNew {
                name: self.name,
                found,
                current: self.current,
                at: at.to_string(),
                written_by,
            });
        }
        Ok(if found == self.current {
            Open::Current
        } else {
            Open::Older(found)
        })
    }
}

/// `format` of a JSON record that may predate the member: absent means 1.
pub fn first() -> u32 {
    1
}

/// The versions line of `switchyard --version`: `outbox 2, quarantine entry 1, …`.
pub fn summary() -> String {
    ALL.iter()
        .map(|f| format!("{} {}", f.name, f.current))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_current_newer() {
        assert_eq!(OUTBOX.open(1, "x", None), Ok(Open::Older(1)));
        assert_eq!(OUTBOX.open(2, "x", None), Ok(Open::Current));
        let err = OUTBOX
            .open(3, "/d/outbox.db", Some("0.9.0".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("outbox /d/outbox.db is format 3, written by switchyard 0.9.0"),
            "{err}"
        );
        assert!(err.contains("reads outbox formats up to 2"), "{err}");
    }

    #[test]
    fn history_names_every_version() {
        for f in ALL {
            assert_eq!(
                f.history.len() as u32,
                f.current,
                "{}: one history line per version",
                f.name
            );
        }
    }
}
