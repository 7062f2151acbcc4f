//! The upstream connect, under way: a proxy step waits for it, and the
//! script's `on upstream-error` handler runs if it is refused or not
//! answered in time.

use std::time::{Duration, Instant};

use super::{Pending, ProxySide};
use crate::server::conn::Cx;

/// How long the upstream has to accept the connection (nginx's
/// `proxy_connect_timeout` is 60 s; a test tool should say so sooner).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A proxy step waiting for the upstream connect.
pub(in crate::server::conn) struct Connecting {
    then: Pending,
    give_up_at: Instant,
}

impl Connecting {
    pub(in crate::server::conn) fn new(then: Pending, now: Instant) -> Connecting {
        Connecting {
            then,
            give_up_at: now + CONNECT_TIMEOUT,
        }
    }

    /// When the connect is given up.
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
        if cx.now >= self.give_up_at {
            up.stream.assume_writable();
            return Err(match up.stream.connect_result() {
                Some(Err(e)) => e.to_string(),
                _ => format!("no answer to the connect within {} s", CONNECT_TIMEOUT.as_secs()),
            });
        }
        match up.stream.connect_result() {
            None => Ok(None),
            Some(Err(e)) => Err(e.to_string()),
            Some(Ok(())) => {
                up.connected = true;
                cx.say("upstream-connected", &[]);
                Ok(Some(self.then))
            }
        }
    }
}
