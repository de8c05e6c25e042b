//! Key names as concepts: every way people spell a Vipps key name, in every common format,
//! is found; names of other things with the same value shapes are not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod synthetic;

use synthetic::{client_secret, subscription_key};
use vippsleaks::decode;
use vippsleaks::detect::Detector;

/// Names that say Vipps themselves.
const SECRET_NAMES: &[&str] = &[
    "VippsClientSecret",
    "vipps_client_secret",
    "VIPPS-CLIENT-SECRET",
    "vipps.clientSecret",
    "Vipps:ClientSecret",
    "Vipps__ClientSecret",
    "VIPPS_CLIENT_SECRET_TEST",
    "TEST_VIPPS_CLIENT_SECRET",
    "VIPPS_PROD_CLIENT_SECRET",
    "MobilePay:ClientSecret",
    "vippsMobilepayClientSecret",
    "VIPPSCLIENTSECRET",
    "VIPPS_API_SECRET",
    "VIPPS_LOGIN_CLIENT_SECRET",
    "Vipps:AccessToken:ClientSecret",
    "Authentication:Vipps:ClientSecret",
    "vipps.client-secret",
    "VIPPS_PASSWORD",
];
const KEY_NAMES: &[&str] = &[
    "VIPPS_SUBSCRIPTION_KEY",
    "VippsSubscriptionKey",
    "Vipps:SubscriptionKey",
    "Vipps__SubscriptionKey",
    "VIPPS_OCP_APIM_SUBSCRIPTION_KEY",
    "VIPPS_APIM_KEY",
    "VIPPS_SUB_KEY",
    "VIPPS_SUBKEY",
    "VIPPS_SUBSCRIPTION_KEY_SECONDARY",
    "VippsPrimaryKey",
    "VIPPS_RECURRING_SUBSCRIPTION_KEY",
    "VIPPS_API_KEY",
    "vippsOcpApimKey",
    "MOBILEPAY_SUBSCRIPTION_KEY",
    "vipps.ocp-apim-subscription-key",
    "vippsMobilepayOcpApimSubscriptionKeyPrimary",
];
/// Names that need Vipps around them (the official samples use these).
const BARE_NAMES: &[(&str, bool)] = &[
    ("CLIENT_SECRET", true),
    ("SHOP_CLIENT_SECRET", true),
    ("CHECKOUT_CLIENT_SECRET", true),
    ("clientSecret", true),
    ("secret", true),
    ("Ocp-Apim-Subscription-Key", false),
    ("Ocp-Apim-Subscription-Key-Ecom", false),
    ("AT_Ocp_Apim_Key", false),
    ("SUBSCRIPTION_KEY", false),
    ("PrimarySubscriptionKey", false),
];
/// Names of other things, in a file about Vipps, with a value of a key's shape.
const OTHER_NAMES: &[(&str, bool)] = &[
    ("VIPPS_WEBHOOK_SECRET", true),
    ("KEYCLOAK_CLIENT_SECRET", true),
    ("FACEBOOK_CLIENT_SECRET", true),
    ("BANKID_CLIENT_SECRET", true),
    ("AzureAd:ClientSecret", true),
    ("spotifyClientSecret", true),
    ("NEXTAUTH_SECRET", true),
    ("VIPPS_ACCESS_TOKEN", true),
    ("VIPPS_CLIENT_ID_HASH", true),
    ("contentHash", true),
    ("VIPPS_ORDER_ID", false),
    ("X-Request-Id", false),
    ("Idempotency-Key", false),
    ("ENCRYPTION_KEY", false),
    ("vippsPaymentReference", false),
];

/// A file holding `name` = `value` in one format, and its name.
fn formats(name: &str, value: &str) -> Vec<(&'static str, String)> {
    vec![
        ("app.env", format!("{name}={value}\n")),
        (
            "appsettings.json",
            format!("{{\n  \"{name}\": \"{value}\"\n}}\n"),
        ),
        ("values.yaml", format!("{name}: \"{value}\"\n")),
        (
            "web.config",
            format!("<appSettings>\n  <add key=\"{name}\" value=\"{value}\" />\n</appSettings>\n"),
        ),
        ("Config.cs", format!("config[\"{name}\"] = \"{value}\";\n")),
        (
            "settings.py",
            format!("SETTINGS = {{\n    \"{name}\": \"{value}\",\n}}\n"),
        ),
        (
            "request.http",
            format!("POST https://apitest.vipps.no/accesstoken/get\n{name}: {value}\n"),
        ),
    ]
}

/// The rules that report `value` in `file`.
fn rules_reporting(detector: &Detector, path: &str, file: &str, value: &str) -> Vec<String> {
    let text = decode::decode(file.as_bytes()).unwrap();
    detector
        .detect(path, &text)
        .into_iter()
        .filter(|f| {
            file.lines()
                .nth(f.line - 1)
                .is_some_and(|l| l.contains(value))
        })
        .map(|f| f.rule_id)
        .collect()
}

/// Whether a Vipps rule reports `value` in `file`.
fn reported(detector: &Detector, path: &str, file: &str, value: &str) -> bool {
    rules_reporting(detector, path, file, value)
        .iter()
        .any(|id| id.starts_with("vipps-"))
}

/// A comment line that says the file is about Vipps.
const VIPPS_LINE: &str = "# Vipps MobilePay, https://apitest.vipps.no\n";

fn value(secret: bool) -> String {
    if secret {
        client_secret()
    } else {
        subscription_key()
    }
}

#[test]
fn vipps_names_are_found_in_every_format() {
    let detector = Detector::builtin();
    let mut missed = Vec::new();
    for (names, secret) in [(SECRET_NAMES, true), (KEY_NAMES, false)] {
        for name in names {
            let v = value(secret);
            for (path, file) in formats(name, &v) {
                if !reported(&detector, path, &file, &v) {
                    missed.push(format!("{name} in {path}"));
                }
            }
        }
    }
    assert!(missed.is_empty(), "not found:\n{}", missed.join("\n"));
}

#[test]
fn bare_names_are_found_with_vipps_around_them_and_not_without() {
    let detector = Detector::builtin();
    let mut wrong = Vec::new();
    for &(name, secret) in BARE_NAMES {
        let v = value(secret);
        for (path, file) in formats(name, &v) {
            if path == "request.http" {
                continue; // its request line already names Vipps
            }
            if path.ends_with(".json") || path.ends_with(".config") {
                // these have no comments: the Vipps word is a section around the key
                let wrapped = if path.ends_with(".json") {
                    format!("{{\n  \"Vipps\": {file}}}\n")
                } else {
                    file.replace("<appSettings>", "<vipps>\n<appSettings>")
                        .replace("</appSettings>", "</appSettings>\n</vipps>")
                };
                if !reported(&detector, path, &wrapped, &v) {
                    wrong.push(format!("{name} in {path} inside a Vipps section: missed"));
                }
            } else if !reported(&detector, path, &format!("{VIPPS_LINE}{file}"), &v) {
                wrong.push(format!("{name} in {path} beside Vipps: missed"));
            }
            // an `Ocp-Apim-Subscription-Key` of another API is a generic APIM key, never Vipps
            if reported(&detector, path, &file, &v) {
                wrong.push(format!(
                    "{name} in {path} with no Vipps anywhere: called Vipps"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn names_of_other_things_are_not_reported() {
    let detector = Detector::builtin();
    let mut wrong = Vec::new();
    for &(name, secret) in OTHER_NAMES {
        let v = value(secret);
        for (path, file) in formats(name, &v) {
            let file = format!("{VIPPS_LINE}{file}");
            let rules = rules_reporting(&detector, path, &file, &v);
            if !rules.is_empty() {
                wrong.push(format!("{name} in {path}: {rules:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "reported:\n{}", wrong.join("\n"));
}
