//! Runs a parsed command line and maps the outcome to an exit code.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::cli::{Cli, ColorChoice, Command, OutputArgs, RulesCommand, ScanArgs, SuppressArgs};
use crate::detect::Detector;
use crate::report::{Format, Report};
use crate::rules::{self, Rule};
use crate::scan::{self, Limits, ScanOptions, ScanOutcome};
use crate::suppress::{Baseline, Suppressions};

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
/// less disabled ones, plus extra rule files), the limits, and what silences findings.
pub struct Prepared {
    pub detector: Detector,
    pub limits: Limits,
    /// Applied by `emit`; `suppressions.exclude` holds the paths that are never scanned.
    pub suppressions: Suppressions,
}

/// Loads the configuration found at `root` (or given with `--config`), the ignore file and the
/// baseline, and builds the detector. A broken file is an error before anything is scanned.
pub fn prepare(root: &Path, suppress: &SuppressArgs) -> Result<Prepared> {
    let config = crate::config::load(root, suppress.config.as_deref())?;
    let mut rules = with_extra_rules(&config.rules);
    rules.retain(|r| !config.disabled_rules.contains(&r.id));
    let mut context = rules::builtin_context();
    context
        .vipps_markers
        .extend(config.vipps_words.iter().cloned());
    let suppressions = Suppressions::load(root, &config, suppress)?;
    Ok(Prepared {
        detector: Detector::new(rules, &context),
        limits: config.limits,
        suppressions,
    })
}

/// The rules of a scan: a user's rules first (the first rule that fits a key wins, so a user's
/// more specific rule is not hidden by a built-in one), then the built-in rules that no user
/// rule replaces by using the same id.
pub fn with_extra_rules(extra: &[Rule]) -> Vec<Rule> {
    let mut all = extra.to_vec();
    all.extend(
        rules::builtin()
            .into_iter()
            .filter(|r| !extra.iter().any(|e| e.id == r.id)),
    );
    all
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
        exclude: prepared.suppressions.exclude.clone(),
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
    prepared.suppressions.mark(&mut outcome.findings, root);
    if let Some(path) = &suppress.write_baseline {
        // the findings just written are the baseline from now on, this run included
        Baseline::write(path, &outcome.findings, root)?.mark(&mut outcome.findings);
    } else if let Some(baseline) = &prepared.suppressions.baseline {
        baseline.mark(&mut outcome.findings);
    }
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
    // the extra reports first: a file that cannot be written fails the run before stdout is used
    let plain = Report {
        color: false,
        ..report
    };
    for (format, path) in &out.also {
        write_report(&plain, *format, Some(path), false)?;
    }
    match write_report(&report, out.format, out.output.as_deref(), out.quiet) {
        // a reader that stopped early (`| head`) is not an error: the scan's status stands
        Err(e) if is_broken_pipe(&e) => {}
        Err(e) => return Err(e),
        Ok(()) => {
            if !out.quiet {
                print_errors(&outcome.errors);
            }
        }
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
    // A FIFO, a device or `/dev/stdout` is written into, never replaced.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(());
    }
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
        RulesCommand::List { config } => {
            let config = crate::config::load(Path::new("."), config.as_deref())?;
            let all = with_extra_rules(&config.rules);
            let id_width = all.iter().map(|r| r.id.len()).max().unwrap_or(0);
            let kind_width = all.iter().map(|r| r.kind.label().len()).max().unwrap_or(0);
            for r in &all {
                let role = if config.disabled_rules.contains(&r.id) {
                    " (disabled by the configuration)"
                } else if r.role == rules::Role::Pair {
                    " (paired, not reported alone)"
                } else {
                    ""
                };
                println!(
                    "{:id_width$}  {:kind_width$}  {:<7}  {}{role}",
                    r.id,
                    r.kind.label(),
                    r.severity.as_str(),
                    r.name
                );
            }
            Ok(Exit::Clean)
        }
        RulesCommand::Explain { id, config } => {
            let config = crate::config::load(Path::new("."), config.as_deref())?;
            let all = with_extra_rules(&config.rules);
            let Some(r) = all.iter().find(|r| &r.id == id) else {
                let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
                bail!("no rule {id:?}; the rules are: {}", ids.join(", "));
            };
            print!("{}", explain(r));
            Ok(Exit::Clean)
        }
        RulesCommand::Check { files } => {
            let (checked, problems) = check_rule_files(files)?;
            for p in &problems {
                println!("{p}");
            }
            if problems.is_empty() {
                let s = if checked == 1 { "" } else { "s" };
                println!(
                    "{checked} rule{s} checked: every example is found and no negative example is"
                );
                Ok(Exit::Clean)
            } else {
                let s = if problems.len() == 1 { "" } else { "s" };
                println!(
                    "{} problem{s}; {checked} rule{} checked",
                    problems.len(),
                    if checked == 1 { "" } else { "s" }
                );
                Ok(Exit::Findings)
            }
        }
    }
}

/// A rule explained for people: what it finds, its examples, how to fix what it finds.
pub fn explain(r: &Rule) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let role = if r.role == rules::Role::Pair {
        "  (paired with a secret, not reported alone)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{}: {}
",
        r.id, r.name
    );
    let _ = writeln!(
        out,
        "kind: {}  severity: {}  precision: {}{role}
",
        r.kind.label(),
        r.severity.as_str(),
        r.precision
    );
    let _ = writeln!(
        out,
        "{}
",
        r.description.trim()
    );
    let numbered = |out: &mut String, title: &str, list: &[String]| {
        let _ = writeln!(out, "{title}");
        if list.is_empty() {
            let _ = writeln!(out, "  (none)");
        }
        for (i, e) in list.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {:>2}. {}",
                i + 1,
                e.trim_end().replace('\n', "\n      ")
            );
        }
        let _ = writeln!(out);
    };
    numbered(&mut out, "Examples (found):", &r.examples);
    numbered(
        &mut out,
        "Negative examples (not found):",
        &r.negative_examples,
    );
    let _ = writeln!(out, "How to fix:");
    for s in crate::report::remediation_steps(r) {
        let _ = writeln!(out, "  {s}");
    }
    if !r.references.is_empty() {
        let _ = writeln!(out, "\nReferences:");
        for link in &r.references {
            let _ = writeln!(out, "  {link}");
        }
    }
    out
}

/// Checks users' rule files: each parses, ids are unique, every rule has examples, every example
/// is found by its rule and no negative example is. The user's rules are checked alongside the
/// built-in ones, in the order of a scan (`with_extra_rules`). Returns how many rules were checked and
/// the problems; a file that cannot be read is an error.
pub fn check_rule_files(files: &[std::path::PathBuf]) -> Result<(usize, Vec<String>)> {
    let mut problems = Vec::new();
    let mut user: Vec<(String, Rule)> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("cannot read rule file {}", f.display()))?;
        let origin = f.display().to_string();
        match rules::parse_rules(&origin, &text) {
            Ok(parsed) if parsed.is_empty() => {
                problems.push(format!("{origin}: no rules in the file"))
            }
            Ok(parsed) => user.extend(parsed.into_iter().map(|r| (origin.clone(), r))),
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    // a duplicate is reported, and only the first rule of an id is checked further
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut unique = Vec::new();
    for (origin, r) in user {
        match seen.get(&r.id) {
            Some(first) => problems.push(format!(
                "{origin}: rule id {} is already defined in {first}",
                r.id
            )),
            None => {
                seen.insert(r.id.clone(), origin);
                unique.push(r);
            }
        }
    }
    let user = unique;
    let detector = Detector::new(with_extra_rules(&user), &rules::builtin_context());
    for r in &user {
        if r.examples.is_empty() {
            problems.push(format!(
                "{}: no examples; a rule needs at least one example it finds",
                r.id
            ));
        }
    }
    problems.extend(check_examples(&detector, &user));
    Ok((user.len(), problems))
}

/// Runs the rules' examples: each must be found by its rule, no negative example may be.
pub fn check_examples(detector: &Detector, rules: &[Rule]) -> Vec<String> {
    let mut problems = Vec::new();
    for rule in rules {
        for (i, example) in rule.examples.iter().enumerate() {
            let hits = example_hits(detector, example);
            if !hits.iter().any(|id| id == &rule.id) {
                let instead = match hits.as_slice() {
                    [] => String::new(),
                    others => format!(" (rule {} matches it first)", others.join(", ")),
                };
                problems.push(format!(
                    "{}: example {} is not found{instead}: {}",
                    rule.id,
                    i + 1,
                    excerpt(example)
                ));
            }
        }
        for (i, example) in rule.negative_examples.iter().enumerate() {
            if example_hits(detector, example)
                .iter()
                .any(|id| id == &rule.id)
            {
                problems.push(format!(
                    "{}: negative example {} is found: {}",
                    rule.id,
                    i + 1,
                    excerpt(example)
                ));
            }
        }
    }
    problems
}

/// The first line of an example, shortened: examples are made-up keys, so they may be shown.
fn excerpt(example: &str) -> String {
    let first = example
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let short: String = first.chars().take(72).collect();
    let more = if short.len() < first.len() || example.trim().lines().count() > 1 {
        " …"
    } else {
        ""
    };
    format!("`{short}`{more}")
}

/// The ids of the rules that match in `example`: pair rules through the candidates they would
/// pair, report rules through findings.
fn example_hits(detector: &Detector, example: &str) -> Vec<String> {
    match crate::decode::decode(example.as_bytes()) {
        Some(text) => detector.matches_in(&text),
        None => Vec::new(),
    }
}
