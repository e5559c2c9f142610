//! The `router:plugin` WIT this kit was built with (the repository's `wit/`), written into
//! every project so its build does not depend on where switchyard is installed.

/// The package version of the embedded WIT.
pub const VERSION: &str = "0.1.2";

/// The versions a host built with this WIT binds, for messages about a guest built for
/// another: names resolve semver-compatibly, so every `0.1.x` guest links.
pub const SUPPORTED: &str = "router:plugin@0.1.x: 0.1.0, 0.1.1, 0.1.2";

/// Whether a guest naming `router:plugin@version` links with a host binding [`VERSION`].
pub fn is_supported(version: &str) -> bool {
    version.starts_with("0.1.")
}

/// The interface and version of a `router:plugin/<interface>@<version>` import or export
/// name; `None` for any other name (WASI, a bare function).
pub fn split_name(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix("router:plugin/")?.split_once('@')
}

/// The distinct `router:plugin` versions among `names`, sorted.
pub fn versions<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut versions: Vec<String> = names
        .filter_map(|n| split_name(n).map(|(_, v)| v.to_string()))
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

/// The WIT files: name and text.
pub const FILES: [(&str, &str); 3] = [
    ("types.wit", include_str!("../../../wit/types.wit")),
    ("host.wit", include_str!("../../../wit/host.wit")),
    ("world.wit", include_str!("../../../wit/world.wit")),
];

/// Writes the WIT files into `dir` (created if needed).
pub fn write(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in FILES {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}

/// The WIT parsed, with the package's id.
pub fn resolve() -> anyhow::Result<(wit_parser::Resolve, wit_parser::PackageId)> {
    let mut map = wit_parser::SourceMap::new();
    for (name, text) in FILES {
        map.push_str(name, text);
    }
    let group = map
        .parse()
        .map_err(|(_, e)| anyhow::anyhow!("the embedded WIT does not parse: {e}"))?;
    let mut resolve = wit_parser::Resolve::default();
    let package = resolve
        .push_group(group)
        .map_err(|e| anyhow::anyhow!("the embedded WIT does not resolve: {e:?}"))?;
    Ok((resolve, package))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_wit_is_the_repository_wit_and_says_its_version() {
        for (name, text) in super::FILES {
            let on_disk =
                std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wit/").to_string() + name)
                    .expect("read wit file");
            assert_eq!(text, on_disk, "{name}");
            assert!(
                text.contains(&format!("package router:plugin@{};", super::VERSION)),
                "{name}"
            );
        }
        assert!(super::is_supported(super::VERSION));
        assert!(super::SUPPORTED.ends_with(super::VERSION));
        let (resolve, package) = super::resolve().expect("the WIT parses");
        assert!(resolve.select_world(&[package], Some("filter")).is_ok());
    }

    #[test]
    fn names_give_their_interface_and_version() {
        assert_eq!(
            super::split_name("router:plugin/filter-api@0.1.2"),
            Some(("filter-api", "0.1.2"))
        );
        assert_eq!(super::split_name("wasi:io/streams@0.2.9"), None);
        let names = [
            "router:plugin/host@0.1.0",
            "wasi:cli/stdout@0.2.9",
            "router:plugin/filter-api@0.2.0",
            "router:plugin/types@0.1.0",
        ];
        assert_eq!(super::versions(names.into_iter()), vec!["0.1.0", "0.2.0"]);
        assert!(!super::is_supported("0.2.0") && super::is_supported("0.1.0"));
    }
}
