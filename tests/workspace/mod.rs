//! Temporary repositories for the end-to-end tests of configuration and suppression.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::Path;

use assert_cmd::Command;

/// A temporary repository: a `.git` directory keeps configuration lookup inside it.
pub fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

/// Writes `text` to `rel` under `dir`, creating directories.
pub fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The binary, run in `dir`, without colour.
pub fn vippsleaks(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("vippsleaks").unwrap();
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}
