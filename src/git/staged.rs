//! Staged changes: the index against HEAD, reporting only keys on lines the staged version of
//! a file adds. The work tree is never read.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use gix::ObjectId;
use gix::bstr::{BString, ByteVec};
use gix::index::entry::{Flags, Mode, Stage};
use gix::objs::tree::EntryKind;
use imara_diff::{Algorithm, Diff, InternedInput};
use rayon::prelude::*;

use super::{describe, is_lfs_pointer, shown_path, skipped_submodule, unreadable};
use crate::detect::Detector;
use crate::finding::Finding;
use crate::scan::{self, Limits, ScanOutcome};

/// A file whose staged content differs from HEAD's.
struct Change {
    path: String,
    staged: ObjectId,
    head: Option<ObjectId>,
}

pub fn scan(repo: &gix::Repository, detector: &Detector, limits: &Limits) -> Result<ScanOutcome> {
    if repo.is_bare() {
        bail!(
            "{}: a bare repository has no staged changes",
            repo.git_dir().display()
        );
    }
    let index = repo.index_or_empty().context("cannot read the index")?;
    let mut outcome = ScanOutcome::default();
    let head = head_files(repo, &mut outcome)?;
    let mut changes = Vec::new();
    for entry in index.entries() {
        // Conflicted entries cannot be committed; `git add` resolves them to stage 0.
        if entry.stage() != Stage::Unconflicted || entry.flags.contains(Flags::INTENT_TO_ADD) {
            continue;
        }
        let path = entry.path(&index);
        let in_head = head.get(path);
        if in_head == Some(&entry.id) {
            continue;
        }
        if entry.mode.is_submodule() {
            skipped_submodule(&mut outcome, &shown_path(path), &entry.id);
            continue;
        }
        if entry.mode == Mode::FILE || entry.mode == Mode::FILE_EXECUTABLE {
            changes.push(Change {
                path: shown_path(path),
                staged: entry.id,
                head: in_head.copied(),
            });
        }
    }
    let sync = repo.clone().into_sync();
    let results: Vec<ScanOutcome> = changes
        .par_iter()
        .map_init(
            || sync.to_thread_local(),
            |repo, change| scan_change(repo, detector, limits, change),
        )
        .collect();
    for o in results {
        outcome.findings.extend(o.findings);
        outcome.errors.extend(o.errors);
        let (a, b) = (&mut outcome.summary, o.summary);
        a.files_scanned += b.files_scanned;
        a.bytes_scanned += b.bytes_scanned;
        a.files_skipped += b.files_skipped;
        a.files_unreadable += b.files_unreadable;
    }
    outcome.finish();
    Ok(outcome)
}

/// Every file in HEAD's tree (none before the first commit), by path.
fn head_files(
    repo: &gix::Repository,
    outcome: &mut ScanOutcome,
) -> Result<HashMap<BString, ObjectId>> {
    let mut files = HashMap::new();
    let tree = match repo.head_tree_id_or_empty() {
        Ok(id) => id.detach(),
        Err(e) => bail!("cannot read HEAD: {}", describe(&e)),
    };
    let mut stack = vec![(tree, BString::default())];
    while let Some((id, prefix)) = stack.pop() {
        let object = match repo.find_object(id) {
            Ok(o) => o,
            Err(e) => {
                unreadable(outcome, &shown_path(&prefix), &id, &describe(&e));
                continue;
            }
        };
        for entry in gix::objs::TreeRefIter::from_bytes(&object.data, repo.object_hash()) {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    unreadable(outcome, &shown_path(&prefix), &id, &describe(&e));
                    break;
                }
            };
            let mut path = prefix.clone();
            if !path.is_empty() {
                path.push_byte(b'/');
            }
            path.push_str(entry.filename);
            match entry.mode.kind() {
                EntryKind::Tree => stack.push((entry.oid.to_owned(), path)),
                _ => {
                    files.insert(path, entry.oid.to_owned());
                }
            }
        }
    }
    Ok(files)
}

fn read_blob(repo: &gix::Repository, id: ObjectId) -> Result<Vec<u8>, String> {
    repo.find_object(id)
        .map(|o| o.detach().data)
        .map_err(|e| describe(&e))
}

fn scan_change(
    repo: &gix::Repository,
    detector: &Detector,
    limits: &Limits,
    change: &Change,
) -> ScanOutcome {
    let mut outcome = ScanOutcome::default();
    match repo.find_header(change.staged) {
        Ok(h) if h.size() > limits.max_file_size => {
            outcome.summary.files_skipped += 1;
            return outcome;
        }
        Ok(_) => {}
        Err(e) => {
            unreadable(&mut outcome, &change.path, &change.staged, &describe(&e));
            return outcome;
        }
    }
    let staged = match read_blob(repo, change.staged) {
        Ok(b) => b,
        Err(message) => {
            unreadable(&mut outcome, &change.path, &change.staged, &message);
            return outcome;
        }
    };
    if is_lfs_pointer(&staged) {
        outcome.summary.files_skipped += 1;
        return outcome;
    }
    let mut scanned = scan::scan_bytes(detector, &change.path, &staged, limits, 0);
    if scanned.findings.is_empty() {
        return scanned;
    }
    if let Some(old) = change.head.and_then(|id| read_blob(repo, id).ok()) {
        scanned.findings = only_added_lines(scanned.findings, &old, &staged);
    }
    scanned
}

/// Keeps the findings on lines the new version adds. An archive or a file that does not
/// decode as text is compared whole: any change counts.
fn only_added_lines(findings: Vec<Finding>, old: &[u8], new: &[u8]) -> Vec<Finding> {
    let (Some(old_text), Some(new_text)) = (crate::decode::decode(old), crate::decode::decode(new))
    else {
        return findings;
    };
    let mut input = InternedInput::default();
    input.update_before(old_text.text.lines());
    input.update_after(new_text.text.lines());
    let diff = Diff::compute(Algorithm::Histogram, &input);
    findings
        .into_iter()
        .filter(|f| {
            let line = f.line.saturating_sub(1);
            f.path.contains("!/") || line >= input.after.len() || diff.is_added(line as u32)
        })
        .collect()
}
