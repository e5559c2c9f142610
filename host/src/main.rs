//! The `switchyard` binary: parse arguments, start logging, run a subcommand, map the outcome
//! to an exit code. Everything else lives in the library.

use clap::Parser;
use std::process::ExitCode;
use switchyard::cli::{
    Args, Command, ConfigCommand, DecisionsCommand, DlqCommand, PluginCommand, Progress, ReportFormat, TerminalCommand,
};
use switchyard::{Shutdown, config, plugin::PluginLimits, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    telemetry::init(args.log_format, "info");
    match run(args.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run {
            config,
            no_watch,
            from_cluster,
        } => {
            if from_cluster && no_watch {
                anyhow::bail!("--from-cluster reloads published configs through the file watcher; drop --no-watch");
            }
            let mut follow = None;
            let (config, node) = if from_cluster {
                let node = config::load(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
                let (cluster, published) = switchyard::cluster::fetch(&node).await?;
                follow = Some((cluster, node.clone()));
                (published, Some(node))
            } else {
                (config, None)
            };
            let mut spec = config::load(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(node) = &node {
                spec = spec.for_node(node);
            }
            let listener = tokio::net::TcpListener::bind(spec.server.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", spec.server.listen))?;
            let shutdown = Shutdown::new();
            tokio::spawn(signals(shutdown.clone()));
            if let Some((cluster, node)) = follow {
                tokio::spawn(switchyard::cluster::follow(cluster, node, shutdown.clone()));
            }
            let options = switchyard::RunOptions { watch: !no_watch, node };
            switchyard::run_with(spec, listener, shutdown, options).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Publish { config } => {
            let spec = config::load(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
            let published = switchyard::cluster::publish(&spec).await?;
            println!("{}", serde_json::to_string(&published)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Init {
            dir,
            vendor,
            listen,
            admin_listen,
            data_dir,
            force,
        } => {
            let options = switchyard::cli::InitOptions {
                dir,
                vendors: vendor,
                listen,
                admin_listen,
                data_dir,
                force,
            };
            print!("{}", switchyard::cli::init(&options)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut command = <Args as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "switchyard", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Manpage { out } => {
            // switchyard.1 and one page per subcommand (switchyard-run.1 …), as git does.
            std::fs::create_dir_all(&out)?;
            clap_mangen::generate_to(<Args as clap::CommandFactory>::command(), &out)?;
            // router.toml's reference, from the same registry as docs/config.md.
            std::fs::write(out.join("switchyard.toml.5"), switchyard::config::reference::manpage())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            config,
            no_plugins,
            format: ReportFormat::Json,
        } => {
            let (report, _) = switchyard::cli::check_report(&config, !no_plugins).await;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Config { command } => {
            match command {
                ConfigCommand::Schema => println!(
                    "{}",
                    serde_json::to_string_pretty(&switchyard::config::reference::schema())?
                ),
                ConfigCommand::Reference => print!("{}", switchyard::config::reference::markdown()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config, no_plugins, .. } => {
            let (report, ok) = switchyard::cli::check(&config, !no_plugins).await;
            if ok {
                println!("{report}");
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{report}");
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Replay { config, source, since } => {
            let progress = Progress::stderr("replaying");
            let summary = switchyard::cli::replay(&config, source.as_deref(), since.as_deref(), &progress).await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(if summary.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Dlq {
            command: DlqCommand::List { config, filter, json },
        } => {
            let letters = switchyard::cli::dlq_list(&config, &filter).await?;
            if json {
                for d in &letters {
                    let mut line = serde_json::to_value(d)?;
                    line["event"] = serde_json::from_slice(&d.payload).unwrap_or(serde_json::Value::Null);
                    println!("{line}");
                }
            } else {
                print!("{}", switchyard::cli::dlq_table(&letters));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Dlq {
            command: DlqCommand::Replay { config, filter, wait },
        } => {
            let progress = Progress::stderr("requeueing");
            let summary = switchyard::cli::dlq_replay(&config, &filter, wait, &progress).await?;
            println!("{}", serde_json::to_string(&summary)?);
            Ok(if summary.failed_again == 0 && summary.waiting == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Dlq {
            command: DlqCommand::Purge { config, sink, before },
        } => {
            let purged = switchyard::cli::dlq_purge(&config, sink.as_deref(), &before).await?;
            println!("{}", serde_json::json!({ "purged": purged }));
            Ok(ExitCode::SUCCESS)
        }
        Command::Decisions {
            command:
                DecisionsCommand::Tail {
                    config,
                    lines,
                    follow,
                    json,
                },
        } => {
            let print = |r: &switchyard::decision::Record| {
                if json {
                    println!("{}", serde_json::to_string(r).unwrap_or_default());
                } else {
                    println!("{}", r.line());
                }
            };
            let (records, position) = switchyard::cli::decisions_tail(&config, lines)?;
            records.iter().for_each(print);
            if follow {
                switchyard::cli::decisions_follow(&config, position, print).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Terminal {
            command:
                TerminalCommand::Subscribe {
                    device,
                    dest,
                    token,
                    disable,
                    ca,
                    insecure,
                },
        } => {
            let tls = switchyard::cli::TlsOptions { ca, insecure };
            let answer = switchyard::cli::terminal_subscribe(&device, &dest, token.as_deref(), !disable, &tls).await?;
            println!("{}", serde_json::to_string_pretty(&answer)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Plugin { command } => plugin(command).await,
    }
}

/// `switchyard plugin …`.
async fn plugin(command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::New { name, kind, lang, dir } => {
            println!("{}", switchyard::cli::plugin_new(&name, &kind, &lang, dir.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Build { dir, target_dir } => {
            let path = tokio::task::spawn_blocking(move || switchyard::cli::plugin_build(&dir, target_dir.as_deref()))
                .await??;
            println!("built {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::List { json } => {
            let listed = switchyard::cli::plugin_list()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&listed)?);
            } else {
                print!("{}", switchyard::cli::plugin_table(&listed));
            }
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Cache { dir, config, prune } => {
            let dir = switchyard::cli::plugin_cache_dir(dir.as_deref(), config.as_deref())?;
            print!("{}", switchyard::cli::plugin_cache(&dir, prune.map(|mib| mib << 20)));
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Inspect {
            plugin,
            config,
            plugin_id,
        } => {
            let config = config.as_deref().zip(plugin_id.as_deref());
            print!("{}", switchyard::cli::plugin_inspect(plugin.as_deref(), config)?);
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Push { file, reference } => {
            print!("{}", switchyard::cli::plugin_push(&file, &reference).await?);
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Pull { reference, out } => {
            print!("{}", switchyard::cli::plugin_pull(&reference, out.as_deref()).await?);
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Keygen { name, dir } => {
            print!("{}", switchyard::cli::plugin_keygen(&name, dir.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Sign {
            component,
            key,
            claims,
            out,
        } => {
            print!(
                "{}",
                switchyard::cli::plugin_sign(&component, &key, claims.as_deref(), out.as_deref())?
            );
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Test {
            plugin,
            input,
            settings,
            config,
            plugin_id,
            expect,
            bless,
            watch,
            source_id,
            timeout_ms,
            timeout_ms_per_mib,
            max_memory_bytes,
            roster,
            roster_key,
            time_zone,
        } => {
            let mut base = switchyard::cli::TestCase::new(
                plugin.as_deref().unwrap_or(std::path::Path::new("")),
                input.as_deref().unwrap_or(std::path::Path::new("")),
                serde_json::json!({}),
            );
            base.source_id = source_id;
            base.limits = PluginLimits {
                timeout_ms,
                timeout_ms_per_mib,
                max_memory_bytes,
                ..PluginLimits::DEFAULT
            };
            base.site = switchyard::cli::SiteOptions {
                roster: roster.map(|path| (path, roster_key)),
                time_zone,
            };
            let args = switchyard::cli::TestArgs {
                plugin,
                input,
                settings,
                config: config.zip(plugin_id),
                expect,
                bless,
                watch,
                base: Some(base),
                project: None,
                target_dir: None,
                cache: None,
            };
            let passed = switchyard::cli::plugin_test_command(&args).await?;
            Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

/// Ctrl-C or SIGTERM starts a graceful shutdown.
async fn signals(shutdown: Shutdown) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("Shutdown requested.");
    shutdown.trigger();
}
