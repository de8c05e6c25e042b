//! The command line, in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

/// Finds leaked Vipps MobilePay API keys (client_secret, subscription keys) in files and git
/// history, and says how to regenerate each one.
#[derive(Debug, Parser)]
#[command(name = "vippsleaks", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default `.`); `-` reads standard input.
    Scan(ScanArgs),
    /// Scan git history: every blob reachable from all refs, and commit messages.
    Git(GitArgs),
    /// Scan what is staged for the next commit (the index against HEAD).
    Staged(StagedArgs),
    /// List, explain and check rules.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// One line per rule: id, key kind, severity. The built-in rules and those of the
    /// configuration's rule files.
    List {
        /// Configuration file (default: the nearest `.vippsleaks.toml` from here).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// What a rule detects, its examples and how to fix what it finds.
    Explain {
        /// The rule id.
        id: String,
        /// Configuration file (default: the nearest `.vippsleaks.toml` from here).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Check rule files: they parse, ids are unique, every example is found and no negative
    /// example is.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Output options shared by every scanning command.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text, help_heading = "Output")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Print raw secret values (by default every output shows only a short prefix and length).
    #[arg(long, help_heading = "Output")]
    pub show_secrets: bool,
    /// Colour in text output: auto is on for a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
    /// No summary line and no per-file errors on standard error.
    #[arg(long, short = 'q', help_heading = "Output")]
    pub quiet: bool,
    /// Also write the report in FORMAT to FILE, from the same scan (repeatable):
    /// `--also sarif=out.sarif --also markdown=summary.md`.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_also, help_heading = "Output")]
    pub also: Vec<(Format, PathBuf)>,
}

fn parse_also(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, file) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE, got {s:?}"))?;
    let format = Format::from_str(format, true).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_owned()))
            .collect();
        format!("unknown format {format:?}; one of {}", names.join(", "))
    })?;
    if file.is_empty() {
        return Err(format!("no file after {format:?}="));
    }
    Ok((format, PathBuf::from(file)))
}

/// Suppression and configuration options shared by every scanning command.
#[derive(Debug, Args, Default, Clone)]
pub struct SuppressArgs {
    /// Configuration file (default: `.vippsleaks.toml` at the scan root or the repository root).
    #[arg(long, short = 'c', value_name = "FILE", help_heading = "Suppression")]
    pub config: Option<PathBuf>,
    /// Report only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE", help_heading = "Suppression")]
    pub baseline: Option<PathBuf>,
    /// Write the current findings to FILE as a baseline (no secrets in it).
    #[arg(long, value_name = "FILE", help_heading = "Suppression")]
    pub write_baseline: Option<PathBuf>,
    /// Show suppressed findings too (inline allow comments, ignore file, baseline, config).
    #[arg(long, help_heading = "Suppression")]
    pub no_suppress: bool,
}

#[derive(Debug, Args)]
pub struct GitArgs {
    /// The repository (default `.`).
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Only what this ref reaches.
    #[arg(long, value_name = "REF", conflicts_with = "range")]
    pub branch: Option<String>,
    /// Only the commits in BASE..HEAD (what a pull request adds).
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub suppress: SuppressArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct StagedArgs {
    /// The repository (default `.`).
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub suppress: SuppressArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Scan files that .gitignore and .ignore exclude.
    #[arg(long, help_heading = "Walking")]
    pub no_ignore: bool,
    /// Follow symbolic links.
    #[arg(long, short = 'L', help_heading = "Walking")]
    pub follow: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", help_heading = "Walking")]
    pub threads: Option<usize>,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", help_heading = "Walking")]
    pub max_file_size: Option<u64>,
    #[command(flatten)]
    pub suppress: SuppressArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }
}
