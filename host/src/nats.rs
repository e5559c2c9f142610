//! NATS connections, shared by cluster mode, the NATS sink and the NATS source: one way to
//! name a connection, authenticate and reconnect, so the three behave alike.

use crate::config::NatsAuth;
use std::time::Duration;

/// Connects to the comma-separated servers of `url` as `name` (what the NATS server lists and
/// the logs say), giving up after `timeout`. The error names the URL.
pub async fn connect(name: &str, auth: &NatsAuth, url: &str, timeout: Duration) -> anyhow::Result<async_nats::Client> {
    let options = options(name, auth).await?;
    tokio::time::timeout(timeout, options.connect(servers(url)))
        .await
        .map_err(|_| anyhow::anyhow!("NATS at {url} did not answer within {} s", timeout.as_secs_f64()))?
        .map_err(|e| anyhow::anyhow!("connecting to NATS at {url}: {e}"))
}

/// Connection options for NATS: `name` in the server's connection list and in the logs, the
/// credentials, reconnecting for ever.
pub async fn options(name: &str, auth: &NatsAuth) -> anyhow::Result<async_nats::ConnectOptions> {
    let events = name.to_string();
    let options = async_nats::ConnectOptions::new()
        .name(format!("switchyard {name}"))
        .connection_timeout(Duration::from_secs(5))
        // Reconnect for ever with NATS's capped backoff: a router outlives a NATS restart and
        // answers 503 meanwhile (see `cluster::publish`).
        .max_reconnects(None)
        .event_callback(move |event| {
            let node = events.clone();
            async move {
                match event {
                    async_nats::Event::Connected => tracing::info!(connection = %node, "Connected to NATS."),
                    async_nats::Event::Disconnected => {
                        tracing::warn!(connection = %node, "Disconnected from NATS; what needs it answers 503 until it is back.")
                    }
                    other => tracing::debug!(connection = %node, event = %other, "NATS event."),
                }
            }
        });
    Ok(match auth {
        NatsAuth::None => options,
        NatsAuth::CredentialsFile(path) => options
            .credentials_file(path)
            .await
            .map_err(|e| anyhow::anyhow!("reading NATS credentials {}: {e}", path.display()))?,
        NatsAuth::TokenEnv(var) => options.token(env(var)?),
        NatsAuth::UserPassword { user, password_env } => options.user_and_password(user.clone(), env(password_env)?),
    })
}

/// The servers of a comma-separated `nats_url` (the client takes a list, not the string).
pub fn servers(url: &str) -> Vec<String> {
    url.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect()
}

fn env(var: &str) -> anyhow::Result<String> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| anyhow::anyhow!("environment variable `{var}` is not set"))
}
