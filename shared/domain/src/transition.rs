//! The one error every state machine returns when asked for a move it does not allow.

/// An illegal state transition or quantity movement. Never silently overwritten: callers surface it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal {machine} transition: {from} -> {to}")]
pub struct IllegalTransition {
    pub machine: &'static str,
    pub from: String,
    pub to: String,
}

impl IllegalTransition {
    pub fn new(machine: &'static str, from: impl std::fmt::Debug, to: impl std::fmt::Debug) -> Self {
        Self {
            machine,
            from: format!("{from:?}"),
            to: format!("{to:?}"),
        }
    }
}
