//! `write`: the step's bytes go to the client until the kernel has taken
//! every one; a peer that resets or leaves meanwhile ends the connection.

use super::client::Client;
use super::ending::Ending;
use super::{Cx, Progress};
use crate::interp::Event;
use crate::log::Field;
use crate::outgoing::Outgoing;
use crate::stream::Io;

pub(super) struct Writing<'s> {
    out: Outgoing<'s>,
}

impl<'s> Writing<'s> {
    pub(super) fn new(out: Outgoing<'s>) -> Writing<'s> {
        Writing { out }
    }

    pub(super) fn progress(&mut self, client: &mut Client, cx: &mut Cx) -> Progress<'s> {
        let io = client.stream.send(&mut self.out, cx.now);
        if let Io::Blocked = io {
            return Progress::Wait;
        }
        cx.say("write", &[("bytes", Field::Num(self.out.written()))]);
        match io {
            Io::Data(_) => Progress::Next(Event::Done),
            failed => Progress::End(Ending::Failed(failed)),
        }
    }
}
