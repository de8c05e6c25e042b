//! Runs a parsed command line and maps the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::cli::{Cli, ColorChoice, Command, OutputArgs, RulesCommand, ScanArgs, SuppressArgs};
use crate::detect::Detector;
use crate::report::{Format, Report};
use crate::rules::{self, Rule};
use crate::scan::{self, Limits, ScanOptions, ScanOutcome};

/// The exit codes: 0 clean, 1 findings, 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

pub fn run(cli: Cli) -> Exit {
    let result = match cli.command {
        Command::Scan(args) => scan_command(&args),
        Command::Git(args) => crate::git::run_git(&args),
        Command::Staged(args) => crate::git::run_staged(&args),
        Command::Rules(cmd) => rules_command(&cmd),
    };
    match result {
        Ok(exit) => exit,
        Err(e) => {
            report_error(&e);
            Exit::Error
        }
    }
}

#[allow(clippy::print_stderr)]
fn report_error(e: &anyhow::Error) {
    if is_broken_pipe(e) {
        return;
    }
    eprintln!("vippsleaks: error: {e:#}");
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// What every scanning command sets up before it reads anything: the detector (built-in rules,
/// less disabled ones, plus extra rule files) and the limits, from the configuration.
pub struct Prepared {
    pub detector: Detector,
    pub limits: Limits,
}

/// Loads the configuration found at `root` (or given with `--config`) and builds the detector.
pub fn prepare(_root: &Path, _suppress: &SuppressArgs) -> Result<Prepared> {
    Ok(Prepared {
        detector: Detector::builtin(),
        limits: Limits::default(),
    })
}

fn scan_command(args: &ScanArgs) -> Result<Exit> {
    let root = match args.paths.as_slice() {
        [one] if one.is_dir() => Some(one.as_path()),
        _ => None,
    };
    let mut prepared = prepare(root.unwrap_or(Path::new(".")), &args.suppress)?;
    if let Some(max) = args.max_file_size {
        prepared.limits.max_file_size = max;
    }
    let opts = ScanOptions {
        paths: args.paths.clone(),
        no_ignore: args.no_ignore,
        follow: args.follow,
        threads: args.threads.unwrap_or(0),
        limits: prepared.limits.clone(),
    };
    let outcome = scan::scan_paths(&prepared.detector, &opts)?;
    emit(outcome, &prepared, root, None, &args.output, &args.suppress)
}

/// Applies suppression, writes the report and the per-file errors, and picks the exit code.
pub fn emit(
    mut outcome: ScanOutcome,
    prepared: &Prepared,
    root: Option<&Path>,
    repository: Option<&str>,
    out: &OutputArgs,
    suppress: &SuppressArgs,
) -> Result<Exit> {
    crate::suppress::apply(&mut outcome, suppress)?;
    let rules: &[Rule] = &prepared.detector.rules;
    let to_terminal = out.output.is_none() && std::io::stdout().is_terminal();
    let color = match out.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let report = Report {
        findings: &outcome.findings,
        errors: &outcome.errors,
        summary: &outcome.summary,
        rules,
        root,
        show_secrets: out.show_secrets,
        color,
        repository,
    };
    write_report(&report, out.format, out.output.as_deref(), out.quiet)?;
    if !out.quiet {
        print_errors(&outcome.errors);
    }
    Ok(if outcome.findings.iter().any(|f| f.suppressed.is_none()) {
        Exit::Findings
    } else if outcome.summary.files_unreadable > 0 {
        Exit::Error
    } else {
        Exit::Clean
    })
}

#[allow(clippy::print_stderr)]
fn print_errors(errors: &[scan::ScanError]) {
    for e in errors {
        if e.path.is_empty() {
            eprintln!("vippsleaks: {}", e.message);
        } else {
            eprintln!("vippsleaks: {}: {}", e.path, e.message);
        }
    }
}

/// Writes to FILE through a temporary file beside it, so a failed write leaves nothing behind.
fn write_report(report: &Report, format: Format, output: Option<&Path>, quiet: bool) -> Result<()> {
    let mut buf = Vec::new();
    if format == Format::Text && quiet {
        let mut full = Vec::new();
        report.write(format, &mut full)?;
        // the last line is the summary
        let text = String::from_utf8_lossy(&full);
        let body = text.trim_end().rsplit_once('\n').map_or("", |(b, _)| b);
        if !body.trim().is_empty() {
            buf.extend_from_slice(body.as_bytes());
            buf.push(b'\n');
        }
    } else {
        report.write(format, &mut buf)?;
    }
    match output {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&buf)
                .context("cannot write to standard output")?;
            stdout.flush().context("cannot write to standard output")?;
        }
        Some(path) => write_atomically(path, &buf)?,
    }
    Ok(())
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "cannot write {}: {} is not a directory",
            path.display(),
            dir.display()
        );
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[allow(clippy::print_stdout)]
fn rules_command(cmd: &RulesCommand) -> Result<Exit> {
    match cmd {
        RulesCommand::List => {
            let all = rules::builtin();
            let width = all.iter().map(|r| r.id.len()).max().unwrap_or(0);
            for r in &all {
                let role = if r.role == rules::Role::Pair {
                    " (paired, not reported alone)"
                } else {
                    ""
                };
                println!(
                    "{:width$}  {:<22}  {:<7}  {}{role}",
                    r.id,
                    r.kind.label(),
                    r.severity.as_str(),
                    r.name
                );
            }
            Ok(Exit::Clean)
        }
        RulesCommand::Explain { id } => {
            let all = rules::builtin();
            let Some(r) = all.iter().find(|r| &r.id == id) else {
                bail!("no rule {id:?}; `vippsleaks rules list` shows them");
            };
            println!("{} ({})\n", r.id, r.name);
            println!(
                "kind: {}  severity: {}  precision: {}\n",
                r.kind.label(),
                r.severity.as_str(),
                r.precision
            );
            println!("{}\n", r.description.replace("\\\n", "").trim());
            println!("Examples (found):");
            for e in &r.examples {
                println!("  {}", e.replace('\n', "\n  "));
            }
            println!("\nNegative examples (not found):");
            for e in &r.negative_examples {
                println!("  {}", e.replace('\n', "\n  "));
            }
            println!("\nHow to fix:");
            for s in crate::report::remediation_steps(r) {
                println!("  {s}");
            }
            Ok(Exit::Clean)
        }
        RulesCommand::Check { files } => {
            let mut all = rules::builtin();
            let mut user = Vec::new();
            for f in files {
                user.extend(rules::load_file(f)?);
            }
            all.retain(|r| !user.iter().any(|u| u.id == r.id));
            all.extend(user.iter().cloned());
            rules::check_unique(&user)?;
            let detector = Detector::new(all, &rules::builtin_context());
            let problems = check_examples(&detector, &user);
            for p in &problems {
                println!("{p}");
            }
            if problems.is_empty() {
                println!(
                    "{} rule{} checked: every example is found and no negative example is",
                    user.len(),
                    if user.len() == 1 { "" } else { "s" }
                );
                Ok(Exit::Clean)
            } else {
                Ok(Exit::Findings)
            }
        }
    }
}

/// Runs the rules' examples: each must be found by its rule, no negative example may be.
pub fn check_examples(detector: &Detector, rules: &[Rule]) -> Vec<String> {
    let mut problems = Vec::new();
    for rule in rules {
        for (i, example) in rule.examples.iter().enumerate() {
            if !example_hits(detector, rule, example) {
                problems.push(format!("{}: example {} is not found", rule.id, i + 1));
            }
        }
        for (i, example) in rule.negative_examples.iter().enumerate() {
            if example_hits(detector, rule, example) {
                problems.push(format!("{}: negative example {} is found", rule.id, i + 1));
            }
        }
    }
    problems
}

/// Whether `rule` matches in `example`. Pair rules are checked through the candidates they
/// would pair, report rules through findings.
fn example_hits(detector: &Detector, rule: &Rule, example: &str) -> bool {
    let Some(text) = crate::decode::decode(example.as_bytes()) else {
        return false;
    };
    detector.matches_in(&text).iter().any(|id| id == &rule.id)
}
