//! The rules: every built-in rule's examples, and `vippsleaks rules list|explain|check`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use assert_cmd::Command;
use vippsleaks::app::check_examples;
use vippsleaks::detect::Detector;
use vippsleaks::rules;

fn vippsleaks() -> Command {
    let mut cmd = Command::cargo_bin("vippsleaks").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = vippsleaks().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_builtin_example_is_found_and_no_negative_example_is() {
    let all = rules::builtin();
    let problems = check_examples(&Detector::builtin(), &all);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_builtin_rule_has_examples_of_both_kinds_and_a_unique_id() {
    let all = rules::builtin();
    assert!(!all.is_empty());
    for r in &all {
        assert!(!r.examples.is_empty(), "{} has no examples", r.id);
        assert!(
            !r.negative_examples.is_empty(),
            "{} has no negative examples",
            r.id
        );
    }
    rules::check_unique(&all).unwrap();
}

#[test]
fn check_examples_reports_a_broken_rule() {
    let detector = Detector::builtin();
    let before = check_examples(&detector, &rules::builtin());
    let mut all = rules::builtin();
    let secret = all
        .iter_mut()
        .find(|r| r.id == "vipps-client-secret")
        .unwrap();
    secret
        .examples
        .push("VIPPS_CLIENT_SECRET=${FROM_THE_VAULT}".into());
    secret
        .negative_examples
        .push("VIPPS_CLIENT_SECRET=4BsA320bzbJJaNQfRvgfCg==".into());
    let (n, m) = (secret.examples.len(), secret.negative_examples.len());
    let after = check_examples(&detector, &all);
    let new: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
    assert_eq!(
        new,
        [
            &format!(
                "vipps-client-secret: example {n} is not found: `VIPPS_CLIENT_SECRET=${{FROM_THE_VAULT}}`"
            ),
            &format!(
                "vipps-client-secret: negative example {m} is found: `VIPPS_CLIENT_SECRET=4BsA320bzbJJaNQfRvgfCg==`"
            ),
        ]
    );
}

#[test]
fn list_shows_every_rule_on_one_line() {
    let (code, stdout, _) = run(&["rules", "list"], Path::new("."));
    assert_eq!(code, 0);
    let all = rules::builtin();
    assert_eq!(stdout.lines().count(), all.len());
    for (line, r) in stdout.lines().zip(&all) {
        assert!(line.starts_with(&r.id), "{line}");
        assert!(line.contains(r.kind.label()), "{line}");
        assert!(line.contains(r.severity.as_str()), "{line}");
    }
}

#[test]
fn explain_shows_examples_and_the_fix() {
    let (code, stdout, _) = run(
        &["rules", "explain", "vipps-subscription-key"],
        Path::new("."),
    );
    assert_eq!(code, 0);
    let rule = rules::builtin()
        .into_iter()
        .find(|r| r.id == "vipps-subscription-key")
        .unwrap();
    assert!(stdout.starts_with("vipps-subscription-key: "), "{stdout}");
    for section in [
        "Examples (found):",
        "Negative examples (not found):",
        "How to fix:",
    ] {
        assert!(stdout.contains(section), "{section} missing:\n{stdout}");
    }
    let first_example = rule.examples[0].lines().next().unwrap();
    assert!(stdout.contains(first_example), "{stdout}");

    let (code, _, stderr) = run(&["rules", "explain", "vipps-secret"], Path::new("."));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no rule \"vipps-secret\"") && stderr.contains("vipps-client-secret"),
        "{stderr}"
    );
}

/// A user rule, with `{examples}` to fill in.
const USER_RULE: &str = r##"
[[rules]]
id = "acme-vipps-token"
name = "ACME's Vipps token"
kind = "client_secret"
role = "report"
severity = "warning"
security_severity = 7.0
precision = "medium"
shape = "base64-secret"
names = [["acme", "token"]]
evidence = "vipps"
summary = "ACME's copy of a Vipps client_secret."
description = "ACME stores the Vipps client_secret under a token name."
remediation = "1. Regenerate the client_secret."
{examples}
"##;

fn user_rule(examples: &str) -> String {
    USER_RULE.replace("{examples}", examples)
}

/// `acme.toml` in `dir`: a user rule whose examples hold.
fn write_good_rule(dir: &Path) {
    std::fs::write(
        dir.join("acme.toml"),
        user_rule(
            "examples = [\"# vipps\\nACME_SECRET_TOKEN=JQRLN+uOCGl5jSVYMgXJ2g==\"]\n\
             negative_examples = [\"# vipps\\nACME_SECRET_TOKEN=${ACME_SECRET_TOKEN}\"]",
        ),
    )
    .unwrap();
}

#[test]
fn check_passes_a_good_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    write_good_rule(dir.path());
    let (code, stdout, stderr) = run(&["rules", "check", "acme.toml"], dir.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("1 rule checked"), "{stdout}");
}

#[test]
fn list_and_explain_show_the_configuration_s_rules() {
    let dir = tempfile::tempdir().unwrap();
    write_good_rule(dir.path());
    std::fs::write(
        dir.path().join(".vippsleaks.toml"),
        "rule-files = [\"acme.toml\"]\ndisable-rules = [\"azure-apim-subscription-key\"]\n",
    )
    .unwrap();

    let (code, stdout, stderr) = run(&["rules", "list"], dir.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), rules::builtin().len() + 1);
    assert!(
        stdout.lines().any(|l| l.starts_with("acme-vipps-token")),
        "{stdout}"
    );
    let apim = stdout
        .lines()
        .find(|l| l.starts_with("azure-apim-subscription-key"))
        .unwrap();
    assert!(apim.contains("disabled"), "{apim}");

    let (code, stdout, _) = run(&["rules", "explain", "acme-vipps-token"], dir.path());
    assert_eq!(code, 0);
    assert!(stdout.starts_with("acme-vipps-token: "), "{stdout}");

    // from elsewhere, with --config
    let config = dir.path().join(".vippsleaks.toml");
    let (code, stdout, _) = run(
        &[
            "rules",
            "explain",
            "acme-vipps-token",
            "--config",
            config.to_str().unwrap(),
        ],
        Path::new("."),
    );
    assert_eq!(code, 0);
    assert!(stdout.contains("ACME_SECRET_TOKEN"), "{stdout}");
}

#[test]
fn check_fails_on_examples_that_do_not_hold() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.toml"),
        user_rule(
            "examples = [\"ACME_SECRET_TOKEN=JQRLN+uOCGl5jSVYMgXJ2g==\"]\n\
             negative_examples = [\"# vipps\\nACME_SECRET_TOKEN=c38L8xwUzILx9cZAXIoOEg==\"]",
        ),
    )
    .unwrap();
    let (code, stdout, _) = run(&["rules", "check", "acme.toml"], dir.path());
    assert_eq!(code, 1);
    assert!(
        stdout.contains("acme-vipps-token: example 1 is not found"),
        "{stdout}"
    );
    assert!(
        stdout.contains("acme-vipps-token: negative example 1 is found"),
        "{stdout}"
    );
}

#[test]
fn check_fails_on_a_rule_without_examples_and_on_duplicate_ids() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), user_rule("")).unwrap();
    std::fs::write(dir.path().join("b.toml"), user_rule("")).unwrap();
    let (code, stdout, _) = run(&["rules", "check", "a.toml", "b.toml"], dir.path());
    assert_eq!(code, 1);
    assert!(
        stdout.contains("b.toml: rule id acme-vipps-token is already defined in a.toml"),
        "{stdout}"
    );
    assert!(stdout.contains("acme-vipps-token: no examples"), "{stdout}");
}

#[test]
fn check_names_file_and_line_of_a_broken_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    let broken = user_rule("examples = []").replace("severity = \"warning\"", "severity = 3");
    std::fs::write(dir.path().join("acme.toml"), broken).unwrap();
    let (code, stdout, _) = run(&["rules", "check", "acme.toml"], dir.path());
    assert_eq!(code, 1);
    assert!(stdout.starts_with("acme.toml:7: "), "{stdout}");

    let (code, _, stderr) = run(&["rules", "check", "missing.toml"], dir.path());
    assert_eq!(code, 2);
    assert!(stderr.contains("missing.toml"), "{stderr}");
}

/// A user's rule may name keys with words no built-in rule uses: the detector must not drop
/// such names before the rules see them.
#[test]
fn user_rule_with_words_no_builtin_rule_uses_is_matched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.toml"),
        user_rule("examples = [\"# vipps\\nACME_TOKEN=roy6LQcAxKuWCPT+CzbmQw==\"]"),
    )
    .unwrap();
    let (code, stdout, stderr) = run(&["rules", "check", "acme.toml"], dir.path());
    assert_eq!(code, 0, "{stdout}{stderr}");
}
