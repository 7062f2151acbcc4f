//! The integration tests: one binary (each file under `tests/it/` is a
//! module), so the suite links once. Every test drives the real `hangup`
//! binary over real sockets from the client side; `support` has the
//! shared helpers.

mod catalog;
mod chance;
mod cli;
mod cli_edges;
mod cli_properties;
mod clients;
mod connect_timeout;
mod console_examples;
mod dependencies;
mod descriptors;
mod docs;
mod engine;
mod file_value;
mod h2;
mod h2_clients;
mod h2_codec;
mod h2_hostile;
// TCP_INFO's count of data segments is Linux's.
#[cfg(target_os = "linux")]
mod h2_writes;
mod hostile_peers;
mod issue20_bytes;
mod language;
mod limits;
mod lint;
mod log_stall;
mod node_parity;
mod node_response_parity;
mod packaging;
mod probe;
mod probe_h2;
mod probe_response;
mod probe_story;
mod probe_strict;
mod probe_target;
#[cfg(feature = "tls")]
mod probe_tls;
mod properties;
mod proxy;
mod proxy_https;
mod record;
mod record_files;
mod reload;
mod scripts;
mod serve_catalog;
mod spin;
mod static_binary;
mod stop;
mod support;
#[cfg(feature = "tls")]
mod tls;
mod tls_hello;
#[cfg(feature = "tls")]
mod tls_robust;
#[cfg(not(feature = "tls"))]
mod without_tls;
