//! Git inputs: history (every blob reachable from the refs, and commit messages) and the
//! staged changes.

use anyhow::{Result, bail};

use crate::app::Exit;
use crate::cli::{GitArgs, StagedArgs};

pub fn run_git(args: &GitArgs) -> Result<Exit> {
    bail!(
        "{}: history scanning is not available in this build",
        args.repo.display()
    )
}

pub fn run_staged(args: &StagedArgs) -> Result<Exit> {
    bail!(
        "{}: staged scanning is not available in this build",
        args.repo.display()
    )
}
