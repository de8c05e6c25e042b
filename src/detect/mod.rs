//! Detection: from a decoded file to findings.
//!
//! Assignments (a value bound to a key name) are classified by the value's shape and the name's
//! words, checked against fakes and the documentation's examples, weighed by the evidence around
//! them, and matched to the first rule that fits. Client ids and Merchant Serial Numbers are
//! not reported on their own: they are paired with the secret beside them.

pub mod context;
pub mod extract;
pub mod shape;
pub mod words;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::decode::Text;
use crate::finding::{Finding, Related};
use crate::rules::{Context, EvidenceNeed, KeyKind, Role, Rule};
use context::{Environment, Evidence, Matchers};
use extract::{Assignment, PAIRING_LINES, Via};
use shape::Shape;
use words::KeyName;

/// How sure a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Rules compiled for scanning.
pub struct Detector {
    pub rules: Vec<Rule>,
    matchers: Matchers,
    /// Words without which a file cannot hold a key: files without any are skipped unread.
    /// Their common spellings, searched with SIMD; `prefilter_any_case` when SIMD is missing.
    prefilter: Option<aho_corasick::packed::Searcher>,
    prefilter_any_case: AhoCorasick,
    /// Words of every rule's names: a name with none of them (in any case) names no key.
    name_words: AhoCorasick,
    /// Value shapes that only pair rules take (a client_id GUID, an MSN): such values matter
    /// only beside a value that could be reported.
    pair_only_shapes: Vec<Shape>,
    /// The longer of those words, with `basic` and the Vipps names: the
    /// places a long line is tokenised around.
    anchors: AhoCorasick,
    /// Their common spellings, searched with SIMD where the CPU has it.
    anchors_simd: Option<aho_corasick::packed::Searcher>,
}

/// Words a file must hold (without case) for a rule to match anything in it: the longest word
/// of each name of each rule that needs no Vipps evidence, and the Vipps markers (every other
/// rule needs Vipps in the text or in the path, which is checked apart).
fn prefilter_words(rules: &[Rule], context: &Context) -> Vec<String> {
    let mut words: Vec<String> = context
        .vipps_markers
        .iter()
        .chain(&context.test_markers)
        .chain(&context.production_markers)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    for rule in rules
        .iter()
        .filter(|r| r.role == Role::Report && r.evidence != EvidenceNeed::Vipps)
    {
        for name in rule.names.iter().chain(&rule.weak_names) {
            if let Some(longest) = name.iter().max_by_key(|w| w.len()) {
                words.push(longest.to_ascii_lowercase());
            }
        }
    }
    // a word that holds another is found through it
    words.sort_by_key(String::len);
    let mut minimal: Vec<String> = Vec::new();
    for w in words {
        if !minimal.iter().any(|m| w.contains(m.as_str())) {
            minimal.push(w);
        }
    }
    minimal
}

/// A value bound to a name, with what the rules need to know about it.
struct Candidate<'a> {
    assignment: &'a Assignment,
    name: KeyName,
    /// The key itself (decoded when the file held it Base64-encoded).
    value: String,
    shape: Shape,
    base64_wrapped: bool,
    /// Named by position: a secret right after a client_id GUID (`getToken(id, secret)`).
    positional: bool,
}

impl Detector {
    pub fn new(rules: Vec<Rule>, context: &Context) -> Self {
        let words = prefilter_words(&rules, context);
        let prefilter_any_case = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&words)
            .unwrap_or_else(|e| unreachable!("prefilter: {e}"));
        let prefilter = aho_corasick::packed::Config::new()
            .builder()
            .extend(words.iter().flat_map(|w| context::spellings(w)))
            .build();
        let mut words: Vec<String> = rules
            .iter()
            .flat_map(|r| r.names.iter().chain(&r.weak_names))
            .flatten()
            .map(|w| w.to_ascii_lowercase())
            .collect();
        // names that say where the real name is: `Basic` auth, Vipps in a name
        words.extend(["basic", "vipps", "mobilepay"].map(String::from));
        words.sort();
        words.dedup();
        let mut anchor_words: Vec<String> = rules
            .iter()
            .filter(|r| r.role == Role::Report)
            .flat_map(|r| r.names.iter().chain(&r.weak_names))
            .flatten()
            .filter(|w| w.len() >= 4)
            .map(|w| w.to_ascii_lowercase())
            .collect();
        anchor_words.extend(["basic", "vipps", "mobilepay"].map(String::from));
        anchor_words.sort();
        anchor_words.dedup();
        let anchors = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&anchor_words)
            .unwrap_or_else(|e| unreachable!("anchors: {e}"));
        let anchors_simd = aho_corasick::packed::Config::new()
            .builder()
            .extend(anchor_words.iter().flat_map(|w| context::spellings(w)))
            .build();
        let name_words = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(&words)
            .unwrap_or_else(|e| unreachable!("name words: {e}"));
        let mut pair_only_shapes: Vec<Shape> = rules
            .iter()
            .filter(|r| r.role == Role::Pair)
            .map(|r| r.shape)
            .filter(|s| {
                !rules
                    .iter()
                    .any(|r| r.role == Role::Report && r.shape == *s)
            })
            .collect();
        pair_only_shapes.dedup();
        Detector {
            rules,
            pair_only_shapes,
            matchers: Matchers::new(context),
            prefilter,
            prefilter_any_case,
            name_words,
            anchors,
            anchors_simd,
        }
    }

    /// Where the anchor words stand in a long line.
    fn anchor_spans(&self, line: &str) -> Vec<(usize, usize)> {
        match &self.anchors_simd {
            Some(simd) => simd.find_iter(line).map(|m| (m.start(), m.end())).collect(),
            None => self
                .anchors
                .find_iter(line)
                .map(|m| (m.start(), m.end()))
                .collect(),
        }
    }

    pub fn builtin() -> Self {
        Detector::new(crate::rules::builtin(), &crate::rules::builtin_context())
    }

    /// Whether a file could hold a key at all (cheap; most files cannot). Works on raw bytes
    /// of ASCII-compatible files, so most files are never decoded.
    pub fn may_contain(&self, path: &str, text: &[u8]) -> bool {
        context::path_names_vipps(path)
            || match &self.prefilter {
                Some(simd) => simd.find(text).is_some(),
                None => self.prefilter_any_case.is_match(text),
            }
    }

    /// The ids of the rules that match anything in `text` (pair rules included): for checking
    /// a rule's examples.
    pub fn matches_in(&self, text: &Text) -> Vec<String> {
        let assignments = extract::assignments_named(
            text,
            &|n| self.name_words.is_match(n),
            &|line| Some(self.anchor_spans(line)),
            &[],
        );
        let ctx = self.matchers.scan("example", text);
        // every assignment: a pair rule's examples have no secret beside them
        let candidates: Vec<Candidate> = assignments
            .iter()
            .filter_map(|a| self.candidate(a))
            .map(|c| qualified_by_section(c, text))
            .collect();
        candidates
            .iter()
            .filter_map(|c| self.match_rule(c, &ctx, text, &candidates))
            .map(|(r, _)| r.id.clone())
            .collect()
    }

    /// Finds the keys in one file. `path` is the path shown in findings.
    pub fn detect(&self, path: &str, text: &Text) -> Vec<Finding> {
        self.detect_at_depth(path, text, 0)
    }

    fn detect_at_depth(&self, path: &str, text: &Text, depth: usize) -> Vec<Finding> {
        if !self.may_contain(path, text.text.as_bytes()) {
            return Vec::new();
        }
        let mut assignments = extract::assignments_named(
            text,
            &|n| self.name_words.is_match(n),
            &|line| Some(self.anchor_spans(line)),
            &self.pair_only_shapes,
        );
        if let Some(a) = extract::whole_file_value(path, text)
            && !assignments.iter().any(|x| x.start == a.start)
        {
            assignments.push(a);
        }
        let mut findings = Vec::new();
        // Base64-encoded documents are scanned as files of their own and reported on the line
        // of their encoded form.
        assignments.retain(|a| {
            if a.via != Via::EncodedDocument {
                return true;
            }
            if depth < 2 {
                let inner = Text::new(a.value.clone(), text.encoding);
                for f in self.detect_at_depth(path, &inner, depth + 1) {
                    findings.push(f.moved_to(text, a.start, a.end));
                }
            }
            false
        });
        if assignments.is_empty() {
            return findings;
        }
        let ctx = self.matchers.scan(path, text);
        let candidates: Vec<Candidate> = assignments
            .iter()
            .filter_map(|a| self.candidate(a))
            .map(|c| qualified_by_section(c, text))
            .collect();

        let mut pairs: Vec<(KeyKind, &Candidate)> = Vec::new();
        let mut reports: Vec<(&Rule, &Candidate, Evidence)> = Vec::new();
        for c in &candidates {
            let Some((rule, evidence)) = self.match_rule(c, &ctx, text, &candidates) else {
                continue;
            };
            match rule.role {
                Role::Pair => pairs.push((rule.kind, c)),
                Role::Report => reports.push((rule, c, evidence)),
            }
        }

        for (rule, c, evidence) in reports {
            let a = c.assignment;
            let related = related(text, a, &pairs);
            let environment = ctx.environment(text, &c.name, a.start);
            let confidence = match evidence {
                Evidence::Strong | Evidence::SameLine | Evidence::Near => Confidence::High,
                Evidence::Medium => Confidence::Medium,
                _ if rule.evidence == EvidenceNeed::NotVipps => Confidence::Medium,
                _ => Confidence::Low,
            };
            findings.push(Finding::new(
                rule,
                path,
                text,
                a.start,
                a.end,
                &c.value,
                &c.name.raw,
                encoding_note(a.via, c.base64_wrapped),
                environment,
                confidence,
                related,
            ));
        }
        findings
    }

    fn candidate<'a>(&self, a: &'a Assignment) -> Option<Candidate<'a>> {
        if let Some((user, secret)) = extract::basic_credentials(&a.value)
            && !self.is_documentation_example(&secret)
            && !shape::is_fake(&secret, Shape::Base64Secret)
        {
            // base64("client_id:client_secret") stored under any name
            return Some(Candidate {
                assignment: a,
                name: KeyName::new("client_secret"),
                value: secret,
                shape: Shape::Base64Secret,
                base64_wrapped: true,
                positional: !shape::is_fake(&user, Shape::Guid),
            });
        }
        let positional = shape::is_guid(a.name.trim());
        let name = KeyName::new(if positional { "client_secret" } else { &a.name });
        if name.is_empty() {
            return None;
        }
        let (value, shape, base64_wrapped) = match shape::classify(&a.value) {
            Some(s) if s != Shape::Base64Secret => (a.value.clone(), s, false),
            direct => match shape::decode_inner(&a.value) {
                Some((inner, s)) => (inner, s, true),
                None => (a.value.clone(), direct?, false),
            },
        };
        if positional
            && (shape != Shape::Base64Secret || shape::is_fake(a.name.trim(), Shape::Guid))
        {
            return None;
        }
        if shape::is_fake(&value, shape)
            || self.is_documentation_example(&value)
            || self.is_documentation_example(&a.value)
        {
            return None;
        }
        Some(Candidate {
            assignment: a,
            name,
            value,
            shape,
            base64_wrapped,
            positional,
        })
    }

    /// One of the documentation's example values, or a copy of one with a character or two
    /// changed (the documentation itself carries such variants, e.g. `...0ec4...` for
    /// `...0eb4...`): a real key is random, so it is never that close to an example.
    fn is_documentation_example(&self, value: &str) -> bool {
        self.matchers
            .documentation_examples
            .iter()
            .any(|e| e.len() == value.len() && differing_bytes(e, value) <= 2)
    }

    /// The first rule the candidate satisfies, with the evidence it had.
    fn match_rule<'r>(
        &'r self,
        c: &Candidate,
        ctx: &context::FileContext,
        text: &Text,
        all: &[Candidate],
    ) -> Option<(&'r Rule, Evidence)> {
        let mut evidence = None;
        for rule in &self.rules {
            if rule.shape != c.shape {
                continue;
            }
            let strong_name = rule.names.iter().any(|n| c.name.has_all(n));
            // `token` in `Vipps:AccessToken:ClientSecret` names the Access Token API, not a token
            let names_api = |w: &str| w == "token" && strong_name && names_access_token(&c.name);
            if rule
                .forbid_words
                .iter()
                .any(|w| c.name.has(w) && !names_api(w))
            {
                continue;
            }
            let weak_name = !strong_name && rule.weak_names.iter().any(|n| c.name.has_all(n));
            if !strong_name && !weak_name {
                continue;
            }
            let ev = *evidence.get_or_insert_with(|| {
                let mut ev = ctx.evidence(&self.matchers, text, &c.name, c.assignment.start);
                if (Evidence::None..Evidence::Medium).contains(&ev) && paired_client_id(c, all) {
                    ev = Evidence::Medium;
                }
                ev
            });
            let ok = match rule.evidence {
                EvidenceNeed::Any => ev != Evidence::Foreign || rule.role == Role::Pair,
                // a password beside a GUID username is a client_id/client_secret pair (Postman
                // Basic auth, `VIPPS_USERNAME`/`VIPPS_PASSWORD`) when Vipps is close by
                EvidenceNeed::Vipps
                    if weak_name && ev >= Evidence::Medium && paired_user(c, all) =>
                {
                    true
                }
                // `secret` or `key` alone may lean on Vipps text close by; with another word
                // (`NEXTAUTH_SECRET`, `ENCRYPTION_KEY`) it names something else unless Vipps is
                // in the name, its section or its own line.
                EvidenceNeed::Vipps if weak_name && only_neutral_words(&c.name, rule) => {
                    ev >= Evidence::Near
                }
                EvidenceNeed::Vipps if weak_name => ev >= Evidence::SameLine,
                EvidenceNeed::Vipps if c.positional => ev >= Evidence::Medium,
                // `KEYCLOAK_CLIENT_SECRET` in a file that also configures Vipps: a word of
                // another service in the name, so Vipps must be in the name, section or line
                EvidenceNeed::Vipps if names_something_else(&c.name, rule) => {
                    ev >= Evidence::SameLine
                }
                EvidenceNeed::Vipps => ev >= Evidence::File,
                EvidenceNeed::NotVipps => ev <= Evidence::None,
            };
            if ok {
                return Some((rule, ev));
            }
        }
        None
    }
}

/// How many bytes differ between two strings of the same length (hex compared without case).
fn differing_bytes(a: &str, b: &str) -> usize {
    a.bytes()
        .zip(b.bytes())
        .filter(|(x, y)| !x.eq_ignore_ascii_case(y))
        .count()
}

/// The name holds `access` right before `token`: the Access Token API.
fn names_access_token(name: &KeyName) -> bool {
    name.words
        .windows(2)
        .any(|w| w[0] == "access" && w[1] == "token")
}

/// Words that say nothing about which service a key belongs to.
const NEUTRAL_WORDS: &[&str] = &[
    "vipps",
    "mobilepay",
    "client",
    "api",
    "test",
    "prod",
    "production",
    "live",
    "dev",
    "sandbox",
    "staging",
    "value",
    "the",
    "my",
    "default",
    "env",
    "config",
    "settings",
    "x",
    "ocp",
];

/// Words a key name may hold besides the rule's own without naming another service: where a
/// setting lives in code (`config.client_secret`, `this.clientSecret`) and the Vipps MobilePay
/// APIs and products (`CHECKOUT_CLIENT_SECRET`, `Ocp-Apim-Subscription-Key-Ecom`).
const QUALIFIERS_OF_VIPPS: &[&str] = &[
    "self",
    "this",
    "config",
    "conf",
    "cfg",
    "settings",
    "setting",
    "options",
    "opts",
    "env",
    "params",
    "param",
    "creds",
    "credentials",
    "credential",
    "props",
    "args",
    "data",
    "values",
    "local",
    "global",
    "shared",
    "common",
    "current",
    "new",
    "old",
    "next",
    "main",
    "default",
    "checkout",
    "epayment",
    "ecom",
    "ecommerce",
    "recurring",
    "login",
    "partner",
    "psp",
    "payment",
    "payments",
    "pay",
    "merchant",
    "access",
    "token",
    "at",
    "order",
    "orders",
    "management",
    "report",
    "qr",
    "agreement",
    "agreements",
    "charge",
    "invoice",
    "sales",
    "unit",
    "staging",
    "stage",
    "development",
    "testing",
    "qa",
    "demo",
    "sandbox",
    "acc",
    "mt",
    "pre",
    "vmp",
    "shop",
    "store",
    "webshop",
    "backend",
    "server",
    "service",
    "web",
    "site",
    "integration",
    "provider",
    "registration",
    "security",
    "secret",
    "key",
    "client",
    "password",
    "api",
    "get",
    "set",
    "is",
    "of",
    "for",
    "to",
    "and",
    "s",
];

/// The name holds a word that is none of the rule's, no neutral word and no word of where a
/// Vipps setting lives: it names another service's key (`FACEBOOK_CLIENT_SECRET`).
fn names_something_else(name: &KeyName, rule: &Rule) -> bool {
    name.words.iter().any(|w| {
        let w = w.as_str();
        !(NEUTRAL_WORDS.contains(&w)
            || QUALIFIERS_OF_VIPPS.contains(&w)
            || w.bytes().all(|b| b.is_ascii_digit())
            || context::is_vipps_word(w)
            || rule
                .names
                .iter()
                .chain(&rule.weak_names)
                .flatten()
                .any(|x| words::is_word_or_plural(w, x)))
    })
}

/// The name is a weak name of `rule` and nothing more (`secret`, `@secret`, `secret_test`,
/// `PrimaryKey`).
fn only_neutral_words(name: &KeyName, rule: &Rule) -> bool {
    name.words.iter().all(|w| {
        NEUTRAL_WORDS.contains(&w.as_str())
            || w.bytes().all(|b| b.is_ascii_digit())
            || rule.weak_names.iter().any(|n| n.iter().any(|x| x == w))
    })
}

/// `primary` or `secondary` alone names a subscription key when the section it sits in is
/// about keys (`"ApiKeys": { "Primary": ... }`, `keys:` / `  secondary: ...`).
fn qualified_by_section<'a>(mut c: Candidate<'a>, text: &Text) -> Candidate<'a> {
    let alone = || {
        !c.name.has("key")
            && c.name.has_any(&["primary", "secondary"])
            && c.name.words.iter().all(|w| {
                matches!(w.as_str(), "primary" | "secondary") || NEUTRAL_WORDS.contains(&w.as_str())
            })
    };
    if c.shape != Shape::Hex32 || !alone() {
        return c;
    }
    let Some(section) = context::sections(text, c.assignment.line)
        .into_iter()
        .next()
    else {
        return c;
    };
    let section = KeyName::new(section.trim_start_matches(['<', '[']));
    if section.has_any(&["key", "subscription", "apim"]) {
        c.name.words.push("key".to_owned());
    }
    c
}

/// A password with a GUID bound to a user name within six lines (Postman keeps the two in
/// sibling objects).
fn paired_user(c: &Candidate, all: &[Candidate]) -> bool {
    c.shape == Shape::Base64Secret
        && c.name.has_any(&["password", "passwd", "pwd", "pass"])
        && near_lines(all, |o| o.assignment.line, c.assignment.line, 6)
            .iter()
            .any(|o| {
                o.shape == Shape::Guid
                    && o.name.has_any(&["user", "username", "login"])
                    && o.assignment.line.abs_diff(c.assignment.line) <= 6
            })
}

/// A GUID bound to a client-id name within five lines: a client_id/client_secret pair.
fn paired_client_id(c: &Candidate, all: &[Candidate]) -> bool {
    c.shape == Shape::Base64Secret
        && c.name.has("client")
        && near_lines(all, |o| o.assignment.line, c.assignment.line, 5)
            .iter()
            .any(|o| {
                o.shape == Shape::Guid
                    && o.name.has("client")
                    && o.name.has("id")
                    && o.assignment.line.abs_diff(c.assignment.line) <= 5
            })
}

/// The items of `sorted` (ordered by line) whose line is within `within` of `line`.
fn near_lines<T>(sorted: &[T], line_of: impl Fn(&T) -> usize, line: usize, within: usize) -> &[T] {
    let from = sorted.partition_point(|x| line_of(x) + within < line);
    let to = sorted.partition_point(|x| line_of(x) <= line + within);
    &sorted[from..to.max(from)]
}

/// The client_id and MSN nearest the secret, within a few lines.
fn related(text: &Text, a: &Assignment, pairs: &[(KeyKind, &Candidate)]) -> Vec<Related> {
    let mut out = Vec::new();
    if let Some(user) = &a.basic_user {
        out.push(Related::new(KeyKind::ClientId, text, a.start, a.end, user));
    }
    // a secret named by position (`id:secret`, `auth=(id, secret)`): the GUID before it
    let id = a.name.trim();
    let positional = shape::is_guid(id)
        .then(|| {
            let line_start = text.line_start(a.line);
            text.text
                .get(line_start..a.start)
                .and_then(|before| before.rfind(id))
                .map(|at| line_start + at)
        })
        .flatten();
    if let Some(at) = positional {
        out.push(Related::new(KeyKind::ClientId, text, at, at + id.len(), id));
    }
    for kind in [KeyKind::ClientId, KeyKind::MerchantSerialNumber] {
        if (a.basic_user.is_some() || positional.is_some()) && kind == KeyKind::ClientId {
            continue;
        }
        let nearest = near_lines(pairs, |(_, c)| c.assignment.line, a.line, PAIRING_LINES)
            .iter()
            .filter(|(k, c)| *k == kind && c.assignment.line.abs_diff(a.line) <= PAIRING_LINES)
            .min_by_key(|(_, c)| {
                (
                    c.assignment.line.abs_diff(a.line),
                    c.assignment.start.abs_diff(a.start),
                )
            });
        if let Some((_, c)) = nearest {
            out.push(Related::new(
                kind,
                text,
                c.assignment.start,
                c.assignment.end,
                &c.value,
            ));
        }
    }
    out
}

fn encoding_note(via: Via, base64_wrapped: bool) -> Option<&'static str> {
    if base64_wrapped {
        return Some("base64");
    }
    match via {
        Via::Plain | Via::SqlColumn => None,
        Via::Escaped => Some("escaped"),
        Via::PercentEncoded => Some("percent-encoded"),
        Via::Joined => Some("multi-line"),
        Via::BasicAuth => Some("basic-auth"),
        Via::EncodedDocument => Some("base64"),
    }
}

impl Environment {
    pub fn is_known(self) -> bool {
        self != Environment::Unknown
    }
}
