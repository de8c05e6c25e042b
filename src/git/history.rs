//! History: every blob reachable from the selected commits, each scanned once, and every commit
//! message, with the oldest commit that holds each key.
//!
//! Trees are walked once per (tree, path) pair rather than once per commit: a subtree that many
//! commits share is read once, and the number of commits reaching it and the oldest of them are
//! carried down to the blobs. That gives, for every (path, blob), how many commits hold it and
//! which one came first, without diffing commits against their parents.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use anyhow::{Context, Result, bail};
use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice, ByteVec};
use gix::objs::tree::EntryKind;
use gix::odb::pack::Find as _;
use rayon::prelude::*;

use super::{describe, is_lfs_pointer, progress_bar, shown_path, skipped_submodule, unreadable};
use crate::detect::Detector;
use crate::finding::{CommitInfo, Finding};
use crate::scan::{self, Limits, ScanError, ScanOutcome};

/// The path shown for findings in commit messages.
pub const COMMIT_MESSAGE_PATH: &str = "@commit-message";
/// The path shown for findings in the messages of annotated tags.
pub const TAG_MESSAGE_PATH: &str = "@tag-message";

/// Memory for resolved delta bases, per worker thread.
const PACK_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// Which commits a history scan covers.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Everything reachable from any ref (branches, tags, remotes, stash) and a detached HEAD.
    AllRefs,
    /// What one ref (or any revision) reaches.
    Ref(String),
    /// `BASE..HEAD`: the commits HEAD reaches and BASE does not.
    Range(String),
}

/// A history scan's settings.
pub struct History<'a> {
    pub detector: &'a Detector,
    pub limits: &'a Limits,
    pub progress: bool,
}

/// A commit as far as the scan needs it.
struct Commit {
    id: ObjectId,
    tree: ObjectId,
    parents: Vec<ObjectId>,
    time: i64,
    author: String,
    date: String,
    message: BString,
}

/// How many selected commits reach a tree or blob at a path, the oldest of them (its rank in
/// age order), and whether the excluded side of a range reaches it too.
#[derive(Debug, Clone, Copy)]
struct Reach {
    count: usize,
    oldest: usize,
    base: bool,
}

impl Reach {
    fn merge(&mut self, other: Reach) {
        self.count += other.count;
        self.oldest = self.oldest.min(other.oldest);
        self.base |= other.base;
    }
}

fn add_reach<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Reach>, key: K, reach: Reach) {
    map.entry(key)
        .and_modify(|r| r.merge(reach))
        .or_insert(reach);
}

/// What reading one tree yields.
#[derive(Default)]
struct TreeVisit {
    trees: Vec<(ObjectId, BString)>,
    blobs: Vec<(BString, ObjectId)>,
    submodules: Vec<(BString, ObjectId)>,
    outcome: ScanOutcome,
}

/// A blob to scan and the paths it is found at, oldest first.
struct BlobJob {
    id: ObjectId,
    paths: Vec<(String, Reach)>,
    /// Only on the excluded side of a range: scanned for the keys it already had.
    before: bool,
}

/// A finding with its place in history, before the commit details are filled in.
struct Placed {
    finding: Finding,
    oldest: usize,
    count: usize,
}

impl History<'_> {
    pub fn scan(&self, repo: &gix::Repository, selection: &Selection) -> Result<ScanOutcome> {
        let mut outcome = ScanOutcome::default();
        let (tips, hidden) = self.select(repo, selection, &mut outcome)?;
        let shallow: HashSet<ObjectId> = repo
            .shallow_commits()
            .ok()
            .flatten()
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default();

        let bar = progress_bar(self.progress, None, "commits");
        let excluded = walk(repo, &hidden, &HashMap::new(), &shallow, &mut outcome, &bar);
        let commits = walk(repo, &tips, &excluded, &shallow, &mut outcome, &bar);
        bar.finish_and_clear();
        let order = age_order(&commits);
        let rank: HashMap<ObjectId, usize> =
            order.iter().enumerate().map(|(i, id)| (*id, i)).collect();

        // Every selected commit's tree, and the trees of the commits just outside a range
        // (what those hold is not new in it).
        let mut roots: HashMap<(ObjectId, BString), Reach> = HashMap::new();
        for c in commits.values() {
            let reach = Reach {
                count: 1,
                oldest: rank[&c.id],
                base: false,
            };
            add_reach(&mut roots, (c.tree, BString::default()), reach);
            for p in &c.parents {
                if let Some(b) = excluded.get(p) {
                    let reach = Reach {
                        count: 0,
                        oldest: usize::MAX,
                        base: true,
                    };
                    add_reach(&mut roots, (b.tree, BString::default()), reach);
                }
            }
        }
        let blobs = self.walk_trees(repo, roots, &mut outcome);

        let mut placed: HashMap<(String, String), Placed> = HashMap::new();
        self.scan_blobs(repo, blobs, &mut outcome, &mut placed);
        self.scan_messages(&order, &commits, &mut outcome, &mut placed);
        if matches!(selection, Selection::AllRefs) {
            self.scan_tag_messages(repo, &mut outcome);
        }

        for (_, p) in placed {
            let c = &commits[&order[p.oldest]];
            let mut finding = p.finding;
            finding.commit = Some(CommitInfo {
                sha: c.id.to_string(),
                author: c.author.clone(),
                date: c.date.clone(),
                count: p.count,
            });
            outcome.findings.push(finding);
        }
        outcome.finish();
        Ok(outcome)
    }

    /// The commits to start from and those whose history is left out.
    fn select(
        &self,
        repo: &gix::Repository,
        selection: &Selection,
        outcome: &mut ScanOutcome,
    ) -> Result<(Vec<ObjectId>, Vec<ObjectId>)> {
        match selection {
            Selection::AllRefs => Ok((all_ref_tips(repo, outcome)?, Vec::new())),
            Selection::Ref(r) => Ok((vec![resolve_commit(repo, r)?], Vec::new())),
            Selection::Range(range) => {
                let Some((base, head)) = range.split_once("..") else {
                    bail!("--range {range:?}: expected BASE..HEAD");
                };
                if head.starts_with('.') {
                    bail!(
                        "--range {range:?}: BASE...HEAD (symmetric difference) is not supported; use BASE..HEAD"
                    );
                }
                let base = if base.is_empty() { "HEAD" } else { base };
                let head = if head.is_empty() { "HEAD" } else { head };
                Ok((
                    vec![resolve_commit(repo, head)?],
                    vec![resolve_commit(repo, base)?],
                ))
            }
        }
    }

    /// Reads every (tree, path) pair once, level by level, passing each one's reach down to
    /// its entries, and returns the reach of every (path, blob).
    fn walk_trees(
        &self,
        repo: &gix::Repository,
        roots: HashMap<(ObjectId, BString), Reach>,
        outcome: &mut ScanOutcome,
    ) -> HashMap<(BString, ObjectId), Reach> {
        let sync = repo.clone().into_sync();
        let bar = progress_bar(self.progress, None, "trees");
        let mut blobs: HashMap<(BString, ObjectId), Reach> = HashMap::new();
        let mut submodules: BTreeMap<BString, ObjectId> = BTreeMap::new();
        let mut level = roots;
        while !level.is_empty() {
            // A subtree that the excluded side of a range also has holds nothing new. One that
            // only the excluded side has is read only where the range has another version of
            // the same directory, to mark what that version shares with it.
            let range_paths: HashSet<BString> = level
                .iter()
                .filter(|(_, r)| !r.base)
                .map(|((_, path), _)| path.clone())
                .collect();
            let nodes: Vec<((ObjectId, BString), Reach)> = level
                .drain()
                .filter(|((_, path), r)| !r.base || (r.count == 0 && range_paths.contains(path)))
                .collect();
            let nodes = pack_order(repo, nodes, |((tree, _), _)| *tree);
            let visits: Vec<(Reach, TreeVisit)> =
                on_all_cores(&sync, &nodes, |repo, ((tree, prefix), reach)| {
                    (*reach, read_tree(repo, tree, prefix.as_bstr()))
                });
            bar.inc(visits.len() as u64);
            for (reach, visit) in visits {
                for key in visit.trees {
                    add_reach(&mut level, key, reach);
                }
                for key in visit.blobs {
                    add_reach(&mut blobs, key, reach);
                }
                if !reach.base {
                    submodules.extend(visit.submodules);
                }
                merge_outcome(outcome, visit.outcome);
            }
        }
        bar.finish_and_clear();
        for (path, id) in submodules {
            skipped_submodule(outcome, &shown_path(&path), &id);
        }
        blobs
    }

    /// Scans each blob once (shown at the path of its oldest commit) and places its findings at
    /// every path it is found at.
    fn scan_blobs(
        &self,
        repo: &gix::Repository,
        blobs: HashMap<(BString, ObjectId), Reach>,
        outcome: &mut ScanOutcome,
        placed: &mut HashMap<(String, String), Placed>,
    ) {
        // In a range, the excluded side's version of a file the range changes is scanned too:
        // a key it already had is not new in the range.
        let changed: HashSet<&BString> = blobs
            .iter()
            .filter(|(_, r)| !r.base)
            .map(|((path, _), _)| path)
            .collect();
        let mut by_blob: HashMap<(bool, ObjectId), Vec<(String, Reach)>> = HashMap::new();
        for ((path, id), reach) in &blobs {
            let before = reach.base && reach.count == 0;
            if !reach.base || (before && changed.contains(path)) {
                by_blob
                    .entry((before, *id))
                    .or_default()
                    .push((shown_path(path), *reach));
            }
        }
        let work: Vec<BlobJob> = by_blob
            .into_iter()
            .map(|((before, id), mut paths)| {
                paths.sort_by(|a, b| (a.1.oldest, &a.0).cmp(&(b.1.oldest, &b.0)));
                BlobJob { id, paths, before }
            })
            .collect();
        let work = pack_order(repo, work, |job| job.id);

        let sync = repo.clone().into_sync();
        let bar = progress_bar(self.progress, Some(work.len() as u64), "blobs");
        let results: Vec<(bool, ScanOutcome, Vec<Placed>)> =
            on_all_cores(&sync, &work, |repo, job| {
                let (o, found) = self.scan_blob(repo, &job.id, &job.paths);
                bar.inc(1);
                (job.before, o, found)
            });
        bar.finish_and_clear();
        let known: HashSet<(String, String)> = results
            .iter()
            .filter(|(before, _, _)| *before)
            .flat_map(|(_, _, found)| {
                found
                    .iter()
                    .map(|p| (p.finding.fingerprint.clone(), p.finding.path.clone()))
            })
            .collect();
        for (_, o, found) in results.into_iter().filter(|(before, _, _)| !before) {
            merge_outcome(outcome, o);
            for p in found {
                if !known.contains(&(p.finding.fingerprint.clone(), p.finding.path.clone())) {
                    place(placed, p);
                }
            }
        }
    }

    fn scan_blob(
        &self,
        repo: &gix::Repository,
        id: &ObjectId,
        paths: &[(String, Reach)],
    ) -> (ScanOutcome, Vec<Placed>) {
        let mut outcome = ScanOutcome::default();
        let shown = &paths[0].0;
        match repo.find_header(*id) {
            Ok(h) if h.size() > self.limits.max_file_size => {
                outcome.summary.files_skipped += 1;
                return (outcome, Vec::new());
            }
            Ok(_) => {}
            Err(e) => {
                unreadable(&mut outcome, shown, id, &describe(&e));
                return (outcome, Vec::new());
            }
        }
        let data = match repo.find_object(*id) {
            Ok(o) => o.detach().data,
            Err(e) => {
                unreadable(&mut outcome, shown, id, &describe(&e));
                return (outcome, Vec::new());
            }
        };
        if is_lfs_pointer(&data) {
            outcome.summary.files_skipped += 1;
            return (outcome, Vec::new());
        }
        let mut scanned = scan::scan_bytes(self.detector, shown, &data, self.limits, 0);
        let findings = first_of_each_key(std::mem::take(&mut scanned.findings));
        let mut found = Vec::new();
        for (path, reach) in paths {
            for f in &findings {
                let mut f = f.clone();
                // Archive members keep their `!/member` part.
                if let Some(rest) = f.path.strip_prefix(shown.as_str()) {
                    f.path = format!("{path}{rest}");
                }
                found.push(Placed {
                    finding: f,
                    oldest: reach.oldest,
                    count: reach.count,
                });
            }
        }
        (scanned, found)
    }

    /// Scans every selected commit's message, shown as `@commit-message`, lines counted
    /// within the message.
    fn scan_messages(
        &self,
        order: &[ObjectId],
        commits: &HashMap<ObjectId, Commit>,
        outcome: &mut ScanOutcome,
        placed: &mut HashMap<(String, String), Placed>,
    ) {
        let results: Vec<(ScanOutcome, Vec<Placed>)> = order
            .par_iter()
            .enumerate()
            .map(|(rank, id)| {
                let c = &commits[id];
                let mut o = scan::scan_bytes(
                    self.detector,
                    COMMIT_MESSAGE_PATH,
                    &c.message,
                    self.limits,
                    0,
                );
                let found = first_of_each_key(std::mem::take(&mut o.findings))
                    .into_iter()
                    .map(|finding| Placed {
                        finding,
                        oldest: rank,
                        count: 1,
                    })
                    .collect();
                // A message is not a file: only its bytes are counted.
                o.summary.files_scanned = 0;
                o.summary.files_skipped = 0;
                (o, found)
            })
            .collect();
        for (o, found) in results {
            merge_outcome(outcome, o);
            for p in found {
                place(placed, p);
            }
        }
    }
}

impl History<'_> {
    /// Scans the message of every annotated tag, shown as `@tag-message`, with the tagged commit,
    /// the tagger and the tag's date. A key in several tag messages is one finding, from the
    /// oldest tag.
    fn scan_tag_messages(&self, repo: &gix::Repository, outcome: &mut ScanOutcome) {
        let mut found: HashMap<String, (i64, Finding)> = HashMap::new();
        for tag in annotated_tags(repo, outcome) {
            let mut o = scan::scan_bytes(
                self.detector,
                TAG_MESSAGE_PATH,
                &tag.message,
                self.limits,
                0,
            );
            for mut finding in first_of_each_key(std::mem::take(&mut o.findings)) {
                finding.commit = Some(CommitInfo {
                    sha: tag.target.to_string(),
                    author: tag.tagger.clone(),
                    date: tag.date.clone(),
                    count: 1,
                });
                match found.get_mut(&finding.fingerprint) {
                    Some((time, kept)) => {
                        if let Some(c) = kept.commit.as_mut() {
                            c.count += 1;
                        }
                        if tag.time < *time {
                            let count = kept.commit.as_ref().map_or(1, |c| c.count);
                            if let Some(c) = finding.commit.as_mut() {
                                c.count = count;
                            }
                            *kept = finding;
                            *time = tag.time;
                        }
                    }
                    None => {
                        found.insert(finding.fingerprint.clone(), (tag.time, finding));
                    }
                }
            }
            o.summary.files_scanned = 0;
            o.summary.files_skipped = 0;
            merge_outcome(outcome, o);
        }
        outcome
            .findings
            .extend(found.into_values().map(|(_, finding)| finding));
    }
}

/// An annotated tag's message and who made it.
struct TagMessage {
    /// The object the tag points at, tags peeled (a commit, usually).
    target: ObjectId,
    tagger: String,
    date: String,
    time: i64,
    message: BString,
}

/// Every annotated tag under `refs/tags`, tags of tags included.
fn annotated_tags(repo: &gix::Repository, outcome: &mut ScanOutcome) -> Vec<TagMessage> {
    let mut out = Vec::new();
    let Ok(platform) = repo.references() else {
        return out;
    };
    let Ok(tags) = platform.tags() else {
        return out;
    };
    let mut seen = HashSet::new();
    for r in tags.flatten() {
        let mut id = r.id().detach();
        // a tag may point at another tag: each message in the chain is read
        while seen.insert(id) {
            let object = match repo.find_object(id) {
                Ok(o) if o.kind == gix::object::Kind::Tag => o,
                Ok(_) => break,
                Err(e) => {
                    unreadable(outcome, "", &id, &describe(&e));
                    break;
                }
            };
            let tag = match gix::objs::TagRef::from_bytes(&object.data, repo.object_hash()) {
                Ok(t) => t,
                Err(e) => {
                    unreadable(outcome, "", &id, &describe(&e));
                    break;
                }
            };
            let tagger = tag.tagger().ok().flatten();
            let (tagger_name, date, time) = tagger.map_or_else(
                || (String::new(), String::new(), 0),
                |t| {
                    let name = t.name.trim().to_str_lossy().into_owned();
                    let email = t.email.trim().to_str_lossy().into_owned();
                    let date = t
                        .time()
                        .ok()
                        .and_then(|d| d.format(gix::date::time::format::ISO8601_STRICT).ok())
                        .unwrap_or_else(|| t.time.to_owned());
                    let who = if email.is_empty() {
                        name
                    } else {
                        format!("{name} <{email}>")
                    };
                    (who, date, t.seconds())
                },
            );
            let target = tag.target();
            let peeled = repo
                .find_object(target)
                .ok()
                .and_then(|o| o.peel_tags_to_end().ok())
                .map_or(target, |o| o.id);
            let message = tag.message.to_owned();
            out.push(TagMessage {
                target: peeled,
                tagger: tagger_name,
                date,
                time,
                message,
            });
            id = target;
        }
    }
    out
}

/// Adds a finding to those already placed: one per key and path, from the oldest commit,
/// counting every commit that holds it.
fn place(placed: &mut HashMap<(String, String), Placed>, p: Placed) {
    let key = (p.finding.fingerprint.clone(), p.finding.path.clone());
    match placed.get_mut(&key) {
        None => {
            placed.insert(key, p);
        }
        Some(existing) => {
            existing.count += p.count;
            if (p.oldest, p.finding.line) < (existing.oldest, existing.finding.line) {
                existing.finding = p.finding;
                existing.oldest = p.oldest;
            }
        }
    }
}

/// One finding per key and path in one piece of content: the first.
fn first_of_each_key(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.fingerprint.clone(), f.path.clone())));
    findings
}

/// Sorts objects by where they are stored: in pack order every delta base comes before the
/// objects made from it, so a worker with a cache of resolved objects pays one delta per object
/// instead of a whole delta chain. Loose objects go last, in the order given.
fn pack_order<T>(repo: &gix::Repository, items: Vec<T>, id: impl Fn(&T) -> ObjectId) -> Vec<T> {
    let mut locator = repo.clone();
    locator.objects.prevent_pack_unload();
    let mut buf = Vec::new();
    let mut keyed: Vec<((u32, u64), T)> = items
        .into_iter()
        .map(|item| {
            let at = match locator.objects.location_by_oid(&id(&item), &mut buf) {
                Ok(Some(l)) => (l.pack_id, l.pack_offset),
                _ => (u32::MAX, 0),
            };
            (at, item)
        })
        .collect();
    keyed.sort_by_key(|(at, _)| *at);
    keyed.into_iter().map(|(_, item)| item).collect()
}

/// Runs `f` over `items` on all cores, in runs of neighbouring items, each run with its own
/// repository handle and cache of resolved delta bases. Results keep the order of `items`.
fn on_all_cores<T: Sync, R: Send>(
    sync: &gix::ThreadSafeRepository,
    items: &[T],
    f: impl Fn(&gix::Repository, &T) -> R + Sync,
) -> Vec<R> {
    let run = items
        .len()
        .div_ceil(rayon::current_num_threads() * 8)
        .max(1);
    items
        .par_chunks(run)
        .flat_map_iter(|chunk| {
            let mut repo = sync.to_thread_local();
            repo.objects.set_pack_cache(|| {
                Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                    PACK_CACHE_BYTES,
                ))
            });
            chunk.iter().map(|item| f(&repo, item)).collect::<Vec<R>>()
        })
        .collect()
}

fn merge_outcome(into: &mut ScanOutcome, from: ScanOutcome) {
    into.findings.extend(from.findings);
    into.errors.extend(from.errors);
    let (a, b) = (&mut into.summary, from.summary);
    a.files_scanned += b.files_scanned;
    a.bytes_scanned += b.bytes_scanned;
    a.files_skipped += b.files_skipped;
    a.files_unreadable += b.files_unreadable;
}

/// The commit every ref points at (tags peeled), plus a detached HEAD.
fn all_ref_tips(repo: &gix::Repository, outcome: &mut ScanOutcome) -> Result<Vec<ObjectId>> {
    let platform = repo.references().context("cannot read the references")?;
    let mut tips = Vec::new();
    for r in platform.all().context("cannot read the references")? {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => {
                outcome.summary.files_unreadable += 1;
                outcome.errors.push(ScanError {
                    path: String::new(),
                    message: format!("cannot read a reference: {}", e),
                });
                continue;
            }
        };
        let name = r.name().as_bstr().to_string();
        let peeled = r
            .peel_to_id()
            .map_err(|e| describe(&e))
            .and_then(|id| peel_to_commit(repo, id.detach()));
        match peeled {
            Ok(Some(id)) => tips.push(id),
            // A ref to a tree or blob (a tag of a file, say) has no history to walk.
            Ok(None) => {}
            Err(message) => {
                outcome.summary.files_unreadable += 1;
                outcome.errors.push(ScanError {
                    path: String::new(),
                    message: format!("cannot resolve {name}: {message}"),
                });
            }
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Result<Option<ObjectId>, String> {
    let object = repo.find_object(id).map_err(|e| describe(&e))?;
    let object = object.peel_tags_to_end().map_err(|e| describe(&e))?;
    Ok((object.kind == gix::object::Kind::Commit).then_some(object.id))
}

fn resolve_commit(repo: &gix::Repository, spec: &str) -> Result<ObjectId> {
    let id = repo
        .rev_parse_single(spec)
        .map_err(|e| anyhow::anyhow!(describe(&e)))
        .with_context(|| format!("cannot resolve {spec:?}"))?;
    match peel_to_commit(repo, id.detach()) {
        Ok(Some(id)) => Ok(id),
        Ok(None) => bail!("{spec:?} does not name a commit"),
        Err(e) => bail!("cannot resolve {spec:?}: {e}"),
    }
}

/// Every commit reachable from `tips`, stopping at those in `stop` and at shallow boundaries.
fn walk(
    repo: &gix::Repository,
    tips: &[ObjectId],
    stop: &HashMap<ObjectId, Commit>,
    shallow: &HashSet<ObjectId>,
    outcome: &mut ScanOutcome,
    bar: &indicatif::ProgressBar,
) -> HashMap<ObjectId, Commit> {
    let mut commits = HashMap::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<ObjectId> = tips.to_vec();
    while let Some(id) = stack.pop() {
        if stop.contains_key(&id) || !seen.insert(id) {
            continue;
        }
        match read_commit(repo, id) {
            Ok(c) => {
                if !shallow.contains(&id) {
                    stack.extend(c.parents.iter().filter(|p| !seen.contains(*p)));
                }
                commits.insert(id, c);
                bar.inc(1);
            }
            Err(message) => unreadable(outcome, "", &id, &message),
        }
    }
    // Parents that could not be read are left out of the graph.
    let known: HashSet<ObjectId> = commits.keys().chain(stop.keys()).copied().collect();
    for c in commits.values_mut() {
        c.parents.retain(|p| known.contains(p));
    }
    commits
}

fn read_commit(repo: &gix::Repository, id: ObjectId) -> Result<Commit, String> {
    let object = repo.find_object(id).map_err(|e| describe(&e))?;
    if object.kind != gix::object::Kind::Commit {
        return Err(format!("expected a commit, found a {}", object.kind));
    }
    let c = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash())
        .map_err(|e| describe(&e))?;
    let author = c.author().map_err(|e| describe(&e))?;
    let date = author
        .time()
        .ok()
        .and_then(|t| t.format(gix::date::time::format::ISO8601_STRICT).ok())
        .unwrap_or_else(|| author.time.to_owned());
    let time = c.committer().map(|s| s.seconds()).unwrap_or(0);
    let author_name = author.name.trim().to_str_lossy().into_owned();
    let author_email = author.email.trim().to_str_lossy().into_owned();
    Ok(Commit {
        id,
        tree: c.tree(),
        parents: c.parents().collect(),
        time,
        author: if author_email.is_empty() {
            author_name
        } else {
            format!("{author_name} <{author_email}>")
        },
        date,
        message: c.message.to_owned(),
    })
}

/// Commits oldest first: parents before children, and by commit time where the graph leaves
/// the order open.
fn age_order(commits: &HashMap<ObjectId, Commit>) -> Vec<ObjectId> {
    let mut waiting: HashMap<ObjectId, usize> = HashMap::new();
    let mut children: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    let mut ready = BinaryHeap::new();
    for c in commits.values() {
        let parents = c
            .parents
            .iter()
            .filter(|p| commits.contains_key(*p))
            .count();
        for p in c.parents.iter().filter(|p| commits.contains_key(*p)) {
            children.entry(*p).or_default().push(c.id);
        }
        if parents == 0 {
            ready.push(Reverse((c.time, c.id)));
        } else {
            waiting.insert(c.id, parents);
        }
    }
    let mut order = Vec::with_capacity(commits.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        order.push(id);
        for child in children.get(&id).into_iter().flatten() {
            if let Some(n) = waiting.get_mut(child) {
                *n -= 1;
                if *n == 0 {
                    waiting.remove(child);
                    ready.push(Reverse((commits[child].time, *child)));
                }
            }
        }
    }
    order
}

/// Reads one tree and sorts its entries into subtrees, blobs and submodules, with full paths.
fn read_tree(repo: &gix::Repository, id: &ObjectId, prefix: &BStr) -> TreeVisit {
    let mut visit = TreeVisit::default();
    let shown = shown_path(prefix);
    let object = match repo.find_object(*id) {
        Ok(o) if o.kind == gix::object::Kind::Tree => o,
        Ok(o) => {
            let kind = o.kind;
            unreadable(
                &mut visit.outcome,
                &shown,
                id,
                &format!("expected a tree, found a {kind}"),
            );
            return visit;
        }
        Err(e) => {
            unreadable(&mut visit.outcome, &shown, id, &describe(&e));
            return visit;
        }
    };
    for entry in gix::objs::TreeRefIter::from_bytes(&object.data, repo.object_hash()) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                unreadable(&mut visit.outcome, &shown, id, &describe(&e));
                break;
            }
        };
        let mut path = BString::from(prefix);
        if !path.is_empty() {
            path.push_byte(b'/');
        }
        path.push_str(entry.filename);
        let oid = entry.oid.to_owned();
        match entry.mode.kind() {
            EntryKind::Tree => visit.trees.push((oid, path)),
            EntryKind::Blob | EntryKind::BlobExecutable => visit.blobs.push((path, oid)),
            EntryKind::Commit => visit.submodules.push((path, oid)),
            // A symbolic link's content is the path it points to.
            EntryKind::Link => {}
        }
    }
    visit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ObjectId {
        ObjectId::from_bytes_or_panic(&[n; 20])
    }

    fn commit(n: u8, time: i64, parents: &[u8]) -> (ObjectId, Commit) {
        let c = Commit {
            id: id(n),
            tree: id(200),
            parents: parents.iter().map(|p| id(*p)).collect(),
            time,
            author: String::new(),
            date: String::new(),
            message: BString::default(),
        };
        (c.id, c)
    }

    #[test]
    fn parents_come_before_children_whatever_their_dates() {
        // commit 2's clock was behind its parent's; commit 3 is an unrelated root
        let commits: HashMap<ObjectId, Commit> =
            [commit(1, 100, &[]), commit(2, 50, &[1]), commit(3, 75, &[])]
                .into_iter()
                .collect();
        assert_eq!(age_order(&commits), vec![id(3), id(1), id(2)]);
    }

    #[test]
    fn a_merge_comes_after_both_of_its_parents() {
        let commits: HashMap<ObjectId, Commit> = [
            commit(1, 10, &[]),
            commit(2, 20, &[1]),
            commit(3, 30, &[1]),
            commit(4, 25, &[2, 3]),
            commit(5, 26, &[2]),
        ]
        .into_iter()
        .collect();
        let order = age_order(&commits);
        assert_eq!(order, vec![id(1), id(2), id(5), id(3), id(4)]);
    }
}
