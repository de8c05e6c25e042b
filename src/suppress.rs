//! Suppression: inline allow comments, the ignore file, baselines and allowed fingerprints.

use anyhow::Result;

use crate::cli::SuppressArgs;
use crate::scan::ScanOutcome;

/// Drops silenced findings from `outcome` (or keeps them, marked, with `--no-suppress`) and
/// counts them by mechanism in the summary.
pub fn apply(outcome: &mut ScanOutcome, args: &SuppressArgs) -> Result<()> {
    let mut kept = Vec::with_capacity(outcome.findings.len());
    for f in std::mem::take(&mut outcome.findings) {
        if let Some(how) = f.suppressed {
            let key = serde_json::to_value(how)?
                .as_str()
                .unwrap_or("other")
                .to_owned();
            *outcome.summary.suppressed.entry(key).or_default() += 1;
            if !args.no_suppress {
                continue;
            }
        }
        kept.push(f);
    }
    outcome.findings = kept;
    outcome.summary.findings = outcome.findings.len() as u64;
    Ok(())
}
