//! Key names as concepts: split a name into lowercase words in any naming style.
//!
//! `VIPPS_OCP_APIM_SUBSCRIPTION_KEY`, `vippsMobilepayOcpApimSubscriptionKeyPrimary`,
//! `Vipps:ClientSecret`, `vipps.client-secret` and `vippsclientsecret` all become word lists,
//! so rules match on words rather than on spellings.

/// Words that a glued lowercase name (`vippsclientsecret`) is split into when it consists of them.
const VOCABULARY: &[&str] = &[
    "vipps",
    "mobilepay",
    "mobile",
    "pay",
    "client",
    "clients",
    "id",
    "secret",
    "secrets",
    "subscription",
    "sub",
    "key",
    "keys",
    "ocp",
    "apim",
    "api",
    "primary",
    "secondary",
    "merchant",
    "serial",
    "number",
    "msn",
    "test",
    "prod",
    "production",
    "dev",
    "access",
    "token",
    "password",
    "pwd",
    "user",
    "username",
    "name",
    "ibm",
    "ecommerce",
    "ecom",
    "psp",
    "app",
    "value",
    "get",
];

/// The words of a key name, lowercased, in order.
pub fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let boundary = if let Some(&prev) = i.checked_sub(1).and_then(|j| chars.get(j)) {
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                (prev.is_ascii_lowercase() && c.is_ascii_uppercase())
                    || (prev.is_ascii_uppercase() && c.is_ascii_uppercase() && next_lower)
                    || (prev.is_ascii_alphabetic() && c.is_ascii_digit())
                    || (prev.is_ascii_digit() && c.is_ascii_alphabetic())
            } else {
                false
            };
            if boundary && !current.is_empty() {
                push_word(&mut words, &current);
                current.clear();
            }
            current.push(c.to_ascii_lowercase());
        } else if !current.is_empty() {
            push_word(&mut words, &current);
            current.clear();
        }
    }
    if !current.is_empty() {
        push_word(&mut words, &current);
    }
    // `MobilePay` is one name, however it is cased
    let mut i = 0;
    while i + 1 < words.len() {
        if words[i] == "mobile" && words[i + 1] == "pay" {
            words[i] = "mobilepay".to_owned();
            words.remove(i + 1);
        }
        i += 1;
    }
    words
}

fn push_word(words: &mut Vec<String>, word: &str) {
    match segment(word) {
        Some(parts) if parts.len() > 1 => words.extend(parts.into_iter().map(str::to_owned)),
        _ => words.push(word.to_owned()),
    }
}

/// Splits a glued word into vocabulary words when it consists of them entirely, preferring
/// the fewest pieces.
fn segment(word: &str) -> Option<Vec<&'static str>> {
    let n = word.len();
    if n > 64 {
        return None;
    }
    // best[i]: the fewest pieces covering word[..i]
    let mut best: Vec<Option<Vec<&'static str>>> = vec![None; n + 1];
    best[0] = Some(Vec::new());
    for i in 0..n {
        let Some(prefix) = best[i].clone() else {
            continue;
        };
        for &v in VOCABULARY {
            if word[i..].starts_with(v) {
                let j = i + v.len();
                let better = match &best[j] {
                    None => true,
                    Some(existing) => existing.len() > prefix.len() + 1,
                };
                if better {
                    let mut parts = prefix.clone();
                    parts.push(v);
                    best[j] = Some(parts);
                }
            }
        }
    }
    best[n].take()
}

/// `w` is `word` or its plural.
pub fn is_word_or_plural(w: &str, word: &str) -> bool {
    w == word || w.strip_suffix('s') == Some(word)
}

/// A key name split into words, with the questions rules ask of it.
#[derive(Debug, Clone, Default)]
pub struct KeyName {
    pub raw: String,
    pub words: Vec<String>,
}

impl KeyName {
    pub fn new(raw: &str) -> Self {
        KeyName {
            raw: raw.to_owned(),
            words: split_words(raw),
        }
    }

    /// The name holds `word`, or its plural (`ApiKeys`, `vipps.secrets`).
    pub fn has(&self, word: &str) -> bool {
        self.words.iter().any(|w| is_word_or_plural(w, word))
    }

    pub fn has_any(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.has(w))
    }

    /// All of `words` occur in the name.
    pub fn has_all(&self, words: &[String]) -> bool {
        words.iter().all(|w| self.has(w))
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        split_words(s)
    }

    #[test]
    fn splits_every_naming_style() {
        assert_eq!(w("VIPPS_CLIENT_SECRET"), ["vipps", "client", "secret"]);
        assert_eq!(w("Vipps:ClientSecret"), ["vipps", "client", "secret"]);
        assert_eq!(w("vipps.client-secret"), ["vipps", "client", "secret"]);
        assert_eq!(w("Vipps__ClientSecret"), ["vipps", "client", "secret"]);
        assert_eq!(
            w("vippsMobilepayOcpApimSubscriptionKeyPrimary"),
            [
                "vipps",
                "mobilepay",
                "ocp",
                "apim",
                "subscription",
                "key",
                "primary"
            ]
        );
        assert_eq!(w("OCPApimKey"), ["ocp", "apim", "key"]);
        assert_eq!(w("vippsclientsecret"), ["vipps", "client", "secret"]);
        assert_eq!(w("subscription_key1"), ["subscription", "key", "1"]);
        assert_eq!(
            w("MobilePay:ClientSecret"),
            ["mobilepay", "client", "secret"]
        );
    }

    #[test]
    fn plural_names_hold_the_singular_word() {
        let name = KeyName::new("Vipps:ApiKeys:Primary");
        assert!(name.has("key") && name.has("keys") && name.has("primary"));
        assert!(!name.has("secret"));
    }

    #[test]
    fn leaves_unknown_glued_words_whole() {
        assert_eq!(w("keyboard"), ["keyboard"]);
        assert_eq!(w("secretary"), ["secretary"]);
    }
}
