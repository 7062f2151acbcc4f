//! The built-in scenarios, embedded so the binary runs with no files.
//!
//! Each is a file in `scenarios/`; its first comment line is the summary
//! that `hangup list` prints.

/// `(name, source)` of every built-in scenario, in the order `list` shows.
pub const BUILTINS: &[(&str, &str)] = &[
    ("hello", include_str!("../../scenarios/hello.hup")),
    ("server-timeout", include_str!("../../scenarios/server-timeout.hup")),
    (
        "server-timeout-reset",
        include_str!("../../scenarios/server-timeout-reset.hup"),
    ),
    ("keepalive-reset", include_str!("../../scenarios/keepalive-reset.hup")),
    ("flaky", include_str!("../../scenarios/flaky.hup")),
    (
        "keepalive-idle-close",
        include_str!("../../scenarios/keepalive-idle-close.hup"),
    ),
    ("mid-body-reset", include_str!("../../scenarios/mid-body-reset.hup")),
    ("truncated-body", include_str!("../../scenarios/truncated-body.hup")),
    (
        "truncated-chunked",
        include_str!("../../scenarios/truncated-chunked.hup"),
    ),
    ("empty-reply", include_str!("../../scenarios/empty-reply.hup")),
    ("reset-on-accept", include_str!("../../scenarios/reset-on-accept.hup")),
    ("connect-timeout", include_str!("../../scenarios/connect-timeout.hup")),
    (
        "reset-on-first-byte",
        include_str!("../../scenarios/reset-on-first-byte.hup"),
    ),
    ("upload-reset", include_str!("../../scenarios/upload-reset.hup")),
    ("early-413", include_str!("../../scenarios/early-413.hup")),
    ("bad-request", include_str!("../../scenarios/bad-request.hup")),
    (
        "bad-request-custom",
        include_str!("../../scenarios/bad-request-custom.hup"),
    ),
    ("slow-body", include_str!("../../scenarios/slow-body.hup")),
    ("hang", include_str!("../../scenarios/hang.hup")),
    ("end-keepalive", include_str!("../../scenarios/end-keepalive.hup")),
    ("end-close", include_str!("../../scenarios/end-close.hup")),
    ("end-destroy", include_str!("../../scenarios/end-destroy.hup")),
    ("proxy", include_str!("../../scenarios/proxy.hup")),
    (
        "proxy-reset-after",
        include_str!("../../scenarios/proxy-reset-after.hup"),
    ),
    (
        "proxy-close-after",
        include_str!("../../scenarios/proxy-close-after.hup"),
    ),
    ("proxy-fail-first", include_str!("../../scenarios/proxy-fail-first.hup")),
    ("tcp-proxy", include_str!("../../scenarios/tcp-proxy.hup")),
    ("tcp-reset-after", include_str!("../../scenarios/tcp-reset-after.hup")),
    (
        "tls-reset-on-hello",
        include_str!("../../scenarios/tls-reset-on-hello.hup"),
    ),
    (
        "tls-close-on-hello",
        include_str!("../../scenarios/tls-close-on-hello.hup"),
    ),
    (
        "tls-alert-on-hello",
        include_str!("../../scenarios/tls-alert-on-hello.hup"),
    ),
    ("tls-stall-hello", include_str!("../../scenarios/tls-stall-hello.hup")),
    (
        "tls-no-close-notify",
        include_str!("../../scenarios/tls-no-close-notify.hup"),
    ),
    (
        "tls-alert-mid-body",
        include_str!("../../scenarios/tls-alert-mid-body.hup"),
    ),
    ("tls-expired", include_str!("../../scenarios/tls-expired.hup")),
    ("tls-wrong-host", include_str!("../../scenarios/tls-wrong-host.hup")),
    ("tls-self-signed", include_str!("../../scenarios/tls-self-signed.hup")),
    ("tls-unknown-ca", include_str!("../../scenarios/tls-unknown-ca.hup")),
    ("h2-hello", include_str!("../../scenarios/h2-hello.hup")),
    ("h2-goaway-refuse", include_str!("../../scenarios/h2-goaway-refuse.hup")),
    (
        "h2-goaway-drain-cut",
        include_str!("../../scenarios/h2-goaway-drain-cut.hup"),
    ),
    (
        "h2-rst-after-headers",
        include_str!("../../scenarios/h2-rst-after-headers.hup"),
    ),
    (
        "h2-refused-stream",
        include_str!("../../scenarios/h2-refused-stream.hup"),
    ),
    ("h2-max-age", include_str!("../../scenarios/h2-max-age.hup")),
    (
        "h2-too-many-pings",
        include_str!("../../scenarios/h2-too-many-pings.hup"),
    ),
    ("h2-window-stall", include_str!("../../scenarios/h2-window-stall.hup")),
];

/// The source of the built-in scenario `name`.
pub fn source(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The built-in whose name is nearest to `name`, when it is close: a
/// likely typo (`mid-body-rest`).
pub fn nearest(name: &str) -> Option<&'static str> {
    super::suggest::nearest(name, BUILTINS.iter().map(|(n, _)| *n))
}
