//! Where revisions come from: Git repositories and the events that say one changed.

pub mod git;
pub mod watch;
