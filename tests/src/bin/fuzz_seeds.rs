//! Writes a fuzz target's seed inputs into a corpus directory: `fuzz-seeds <target> <dir>`
//! (`scripts/fuzz.sh` runs it before the fuzzer; `--list` prints the targets).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--list" => {
            for target in router_tests::fuzz::targets() {
                println!("{target}");
            }
        }
        [target, dir] => {
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).expect("corpus dir");
            let seeds = router_tests::fuzz::seeds(target);
            for (i, (path, bytes)) in seeds.iter().enumerate() {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("seed");
                std::fs::write(dir.join(format!("seed-{i:03}-{name}")), bytes).expect("write seed");
            }
            eprintln!("{target}: {} seeds in {}", seeds.len(), dir.display());
        }
        _ => {
            eprintln!("usage: fuzz-seeds <target> <corpus-dir> | fuzz-seeds --list");
            return std::process::ExitCode::from(2);
        }
    }
    std::process::ExitCode::SUCCESS
}
