//! Translation completeness: every key a template or script uses exists in English, every
//! language has every English key with the same placeholders, no catalogue repeats a key, and
//! every page renders in every language with nothing unresolved.

use std::collections::BTreeSet;

use esignet_ui::LOCALES;

use crate::SignupUiConfig;
use crate::assets::Assets;
use crate::i18n::{catalogues, source_of};
use crate::pages::{Page, SignupUi};

/// The `{{t:key}}` keys of a template.
fn template_keys(template: &str) -> Vec<String> {
    template
        .split("{{t:")
        .skip(1)
        .filter_map(|piece| piece.split_once("}}").map(|(key, _)| key.trim().to_owned()))
        .collect()
}

/// The literal keys a script passes to `t("...")` (not `get("...")` and the like).
fn script_keys(source: &str) -> Vec<String> {
    source
        .match_indices("t(\"")
        .filter(|(at, _)| {
            source[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
        })
        .filter_map(|(at, _)| {
            source[at + 3..]
                .split_once('"')
                .map(|(key, _)| key.to_owned())
        })
        .filter(|key| !key.ends_with('.'))
        .collect()
}

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|piece| piece.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_used_key_is_translated_and_shipped() {
    let english = &catalogues()[0];
    let layout = include_str!("../templates/layout.html");
    let otp = include_str!("../templates/otp.html");
    for page in Page::ALL {
        for key in template_keys(page.template())
            .into_iter()
            .chain(template_keys(layout))
            .chain(template_keys(otp))
            .chain([page.title_key().to_owned()])
        {
            assert!(english.contains_key(&key), "{page:?}: missing key {key}");
        }
        let mut modules = Assets::closure(page.script());
        modules.push(page.script());
        for module in modules {
            for key in script_keys(Assets::script_source(module)) {
                assert!(english.contains_key(&key), "{module}: missing key {key}");
                assert!(
                    page.script_prefixes().iter().any(|p| key.starts_with(p)),
                    "{page:?} loads {module} but does not ship {key}"
                );
            }
        }
    }
}

#[test]
fn every_language_is_complete_with_the_same_placeholders() {
    let all = catalogues();
    assert_eq!(all.len(), LOCALES.len());
    let english = &all[0];
    for (locale, catalogue) in LOCALES.iter().zip(all) {
        for (key, text) in english {
            let translated = catalogue
                .get(key)
                .unwrap_or_else(|| panic!("{}: missing {key}", locale.code));
            assert!(
                !translated.trim().is_empty(),
                "{}: empty {key}",
                locale.code
            );
            assert_eq!(
                placeholders(translated),
                placeholders(text),
                "{}: placeholders of {key}",
                locale.code
            );
        }
        assert_eq!(
            catalogue.len(),
            english.len(),
            "{}: extra keys",
            locale.code
        );
        // A repeated key would silently drop one of the two texts.
        let keys = source_of(locale).matches("\": \"").count();
        assert_eq!(keys, catalogue.len(), "{}: repeated keys", locale.code);
    }
}

#[test]
fn every_page_renders_in_every_language() {
    let ui = SignupUi::new(SignupUiConfig::default());
    for locale in LOCALES {
        for page in Page::ALL {
            let html = ui.render(page, locale, "");
            assert!(!html.contains("{{"), "{page:?}/{}: unresolved", locale.code);
            assert!(html.contains(&format!("lang=\"{}\"", locale.code)));
            let dir = if locale.rtl { "rtl" } else { "ltr" };
            assert!(html.contains(&format!("<html lang=\"{}\" dir=\"{dir}\">", locale.code)));
        }
    }
}
