//! `tls handshake …`: the server's side of a TLS handshake, where the
//! script says, with the versions, protocols and certificate it asks for.
//! Without it, `--tls` handshakes at accept (see `event_loop`); with it,
//! the script decides, so a `read tls-hello` may come first (its records
//! are taken in first) or a `stall after server-hello` may stop it on
//! purpose.
//!
//! The handshake itself runs in the TLS layer, pumped on every readiness
//! event (see `Client::pump_tls`); this state only waits until it is done,
//! or stalled as asked, and says so.

use super::client::Client;
use super::ending::Ending;
use super::{Cx, Progress};
use crate::interp::Event;
use crate::log::Field;
use crate::scenario::ast::TlsHandshake;
use crate::tls::options::HandshakeOptions;

/// A `tls handshake` in progress.
pub(super) struct Handshaking {
    /// It is to stop after the server's first record.
    stall: bool,
}

impl Handshaking {
    /// Begin the handshake `step` asks for, presenting `certificate`'s
    /// defect if the scenario has one. An ending when the server has no
    /// TLS to offer.
    pub(super) fn start(
        step: &TlsHandshake,
        certificate: Option<crate::tls::options::Defect>,
        client: &mut Client,
        cx: &mut Cx,
    ) -> Result<Handshaking, Ending> {
        let Some(tls) = cx.shared.tls.as_mut() else {
            return Err(Ending::Broken("`tls handshake` on a server without TLS"));
        };
        let options = HandshakeOptions {
            alpn: step.alpn.clone(),
            versions: step.versions,
            defect: certificate,
        };
        let mut layer = match tls.layer(&options, cx.now) {
            Ok(layer) => layer,
            Err(why) => {
                cx.say("tls-error", &[("why", Field::Str(&why))]);
                return Err(Ending::Broken("no TLS layer could be made"));
            }
        };
        if let Some(stall) = step.stall {
            layer.stall(stall);
        }
        // Records already read (the catalog looked at the ClientHello in
        // the input) are the handshake's first.
        if !client.input.is_empty() {
            let read = std::mem::take(&mut client.input);
            client.stream.keep_hello(&read, false);
        }
        client.stream.start_tls(layer);
        Ok(Handshaking {
            stall: step.stall.is_some(),
        })
    }

    pub(super) fn progress<'s>(&mut self, client: &mut Client, cx: &mut Cx) -> Progress<'s> {
        if let Some(ending) = client.pump_tls(cx) {
            return Progress::End(ending);
        }
        if !client.stream.tls_handshaking() {
            return Progress::Next(Event::Done);
        }
        if self.stall && client.stream.tls_mut().is_some_and(|tls| tls.withheld()) {
            cx.say("tls-stall", &[("after", Field::Str("server-hello"))]);
            return Progress::Next(Event::Done);
        }
        Progress::Wait
    }
}
