//! The integration suite: the real router on 127.0.0.1, real plugins built from `plugins/`,
//! real wasmtime, mock receivers as small real HTTP servers.

mod budgets;
mod check;
mod console;
mod decisions;
mod delivery;
mod encoding;
mod examples;
mod fuzz;
mod hostile;
mod ingest;
mod kits;
mod limits;
mod pipeline;
mod plugins;
mod registry;
mod reload;
mod replay;
mod schema;
mod setup;
mod storage;
mod terminal;
mod tricky;
mod trust;
mod upgrade;
mod vendors;
mod websocket;
