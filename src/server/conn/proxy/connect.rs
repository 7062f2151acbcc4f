//! The upstream connect, under way: a proxy step waits for it, and the
//! script's `on upstream-error` handler runs if it is refused or not
//! answered in time.
//!
//! To an `https://` upstream the connect goes on with the TLS handshake,
//! and the step waits for that too: until it is done, no plaintext can
//! go, and a handshake that fails (the certificate refused, an alert, an
//! RST or FIN, no answer in time) is an upstream failure like a refused
//! connect, said in words by [`super::tls`].

use std::time::{Duration, Instant};

use super::{Pending, ProxySide, tls};
use crate::server::conn::Cx;

/// How long the upstream has to accept the connection (nginx's
/// `proxy_connect_timeout` is 60 s; a test tool should say so sooner),
/// and then, over TLS, to finish the handshake (nginx gives that the
/// connect's timeout too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A proxy step waiting for the upstream connect.
pub(in crate::server::conn) struct Connecting {
    then: Pending,
    phase: Phase,
    give_up_at: Instant,
}

/// Where the connect is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The TCP connect is under way. Left when the socket is writable.
    Tcp,
    /// Connected, and the TLS handshake with an `https://` upstream is
    /// under way. Left when it is done or failed.
    Handshake,
}

impl Connecting {
    pub(in crate::server::conn) fn new(then: Pending, now: Instant) -> Connecting {
        Connecting {
            then,
            phase: Phase::Tcp,
            give_up_at: now + CONNECT_TIMEOUT,
        }
    }

    /// When the connect (or the handshake) is given up.
    pub(in crate::server::conn) fn give_up_at(&self) -> Instant {
        self.give_up_at
    }

    /// The step that waited, once connected; `None` while the connect is
    /// under way; why it failed, if it did.
    pub(in crate::server::conn) fn progress(
        &mut self,
        proxy: Option<&mut ProxySide>,
        cx: &mut Cx,
    ) -> Result<Option<Pending>, String> {
        let Some(up) = proxy.and_then(|side| side.upstream.as_mut()) else {
            return Err("the upstream connection is gone".into());
        };
        if self.phase == Phase::Tcp {
            if cx.now >= self.give_up_at {
                up.stream.assume_writable();
                return Err(match up.stream.connect_result() {
                    Some(Err(e)) => e.to_string(),
                    _ => format!("no answer to the connect within {} s", CONNECT_TIMEOUT.as_secs()),
                });
            }
            match up.stream.connect_result() {
                None => return Ok(None),
                Some(Err(e)) => return Err(e.to_string()),
                Some(Ok(())) => {}
            }
            cx.say("upstream-connected", &[]);
            let Some(upstream_tls) = cx.shared.upstream.as_ref().and_then(|u| u.tls.as_ref()) else {
                up.connected = true;
                return Ok(Some(self.then));
            };
            self.phase = Phase::Handshake;
            self.give_up_at = cx.now + CONNECT_TIMEOUT;
            let layer = upstream_tls.client.layer(&upstream_tls.host, self.give_up_at)?;
            up.stream.start_tls(layer);
        }
        let failed = up.stream.pump();
        let Some(upstream_tls) = cx.shared.upstream.as_ref().and_then(|u| u.tls.as_ref()) else {
            return Err("the upstream's TLS is gone".into());
        };
        if let Some(io) = failed {
            return Err(tls::handshake_failure(io, &up.stream, upstream_tls));
        }
        if up.stream.tls_handshaking() {
            if cx.now >= self.give_up_at {
                return Err(format!(
                    "TLS handshake failed: not done within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ));
            }
            return Ok(None);
        }
        tls::say_handshake(&mut up.stream, cx);
        up.connected = true;
        Ok(Some(self.then))
    }
}
