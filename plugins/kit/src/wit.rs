//! The `router:plugin` WIT this kit was built with (the repository's `wit/`), written into
//! every project so its build does not depend on where switchyard is installed.

/// The package version of the embedded WIT.
pub const VERSION: &str = "0.1.2";

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
        let (resolve, package) = super::resolve().expect("the WIT parses");
        assert!(resolve.select_world(&[package], Some("filter")).is_ok());
    }
}
