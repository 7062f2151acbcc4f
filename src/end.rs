//! How a connection ended: one vocabulary for the server's log and
//! summary, the probe's report and the tests.
//!
//! It is told from hangup's side of the connection: [`End::Fin`] and
//! [`End::Rst`] are hangup's own doing (a scenario's `close` or `reset`),
//! [`End::PeerFin`] and [`End::PeerRst`] the other side's (a client that
//! left, or the server a probe talks to). The rest say that nothing ended
//! it on the wire: it stayed open, a deadline passed, the connect was
//! refused, or an error that is neither side's FIN nor RST.

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum End {
    /// hangup closed it: the peer got FIN.
    Fin,
    /// hangup reset it: the peer got RST.
    Rst,
    /// The peer closed it: `read` returned 0.
    PeerFin,
    /// The peer reset it: ECONNRESET (or EPIPE on a write).
    PeerRst,
    /// Still open when hangup stopped watching (a probe's `--linger`
    /// passed, or a test's read timed out).
    Open,
    /// Nothing decisive before the deadline (a probe's `--timeout`).
    Timeout,
    /// The connect was refused.
    Refused,
    /// Any other failure; the log or report says which.
    Error,
}

impl End {
    /// The name the event log and the JSON outputs use.
    pub fn name(self) -> &'static str {
        match self {
            End::Fin => "fin",
            End::Rst => "rst",
            End::PeerFin => "peer-fin",
            End::PeerRst => "peer-rst",
            End::Open => "open",
            End::Timeout => "timeout",
            End::Refused => "refused",
            End::Error => "error",
        }
    }

    /// Whether the connection ended with a reset, by either side.
    pub fn is_reset(self) -> bool {
        matches!(self, End::Rst | End::PeerRst)
    }
}
