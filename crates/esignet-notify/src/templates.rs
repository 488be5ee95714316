//! Message texts and e-mail subjects per template and language, with the built-in defaults in
//! the seven UI languages and the operator's overrides from `[notification]`.

use std::collections::{BTreeMap, HashMap};

use esignet_spi::{NotificationError, NotificationTemplate};

/// The UI languages (three-letter codes, as the login pages and signup name them) that have
/// built-in texts.
pub const LANGUAGES: &[&str] = &["eng", "fra", "ara", "hin", "kan", "tam", "khm"];

const TEMPLATES: [NotificationTemplate; 4] = [
    NotificationTemplate::LoginOtp,
    NotificationTemplate::SignupOtp,
    NotificationTemplate::Registration,
    NotificationTemplate::ForgotPassword,
];

/// Built-in (template, language, subject, text). The OTP templates name `{otp}` (login) and
/// `{challenge}` (signup); either placeholder takes whichever value the sender supplied.
const DEFAULTS: &[(&str, &str, &str, &str)] = &[
    (
        "login-otp",
        "eng",
        "Your eSignet login code",
        "Your eSignet login OTP is {otp}. It is valid for {validity_minutes} minutes. Do not share it with anyone.",
    ),
    (
        "login-otp",
        "fra",
        "Votre code de connexion eSignet",
        "Votre code de connexion eSignet est {otp}. Il est valable {validity_minutes} minutes. Ne le communiquez à personne.",
    ),
    (
        "login-otp",
        "ara",
        "رمز تسجيل الدخول إلى eSignet",
        "رمز تسجيل الدخول إلى eSignet هو {otp}. صالح لمدة {validity_minutes} دقائق. لا تشاركه مع أي شخص.",
    ),
    (
        "login-otp",
        "hin",
        "आपका eSignet लॉगिन कोड",
        "आपका eSignet लॉगिन OTP {otp} है। यह {validity_minutes} मिनट तक मान्य है। इसे किसी के साथ साझा न करें।",
    ),
    (
        "login-otp",
        "kan",
        "ನಿಮ್ಮ eSignet ಲಾಗಿನ್ ಕೋಡ್",
        "ನಿಮ್ಮ eSignet ಲಾಗಿನ್ OTP {otp}. ಇದು {validity_minutes} ನಿಮಿಷಗಳವರೆಗೆ ಮಾನ್ಯವಾಗಿರುತ್ತದೆ. ಇದನ್ನು ಯಾರೊಂದಿಗೂ ಹಂಚಿಕೊಳ್ಳಬೇಡಿ.",
    ),
    (
        "login-otp",
        "tam",
        "உங்கள் eSignet உள்நுழைவு குறியீடு",
        "உங்கள் eSignet உள்நுழைவு OTP {otp}. இது {validity_minutes} நிமிடங்களுக்கு செல்லுபடியாகும். இதை யாருடனும் பகிர வேண்டாம்.",
    ),
    (
        "login-otp",
        "khm",
        "លេខកូដចូល eSignet របស់អ្នក",
        "លេខកូដ OTP ចូល eSignet របស់អ្នកគឺ {otp}។ វាមានសុពលភាព {validity_minutes} នាទី។ កុំចែករំលែកវាជាមួយនរណាម្នាក់។",
    ),
    (
        "send-otp",
        "eng",
        "Your eSignet verification code",
        "Your eSignet verification code is {challenge}. Do not share it with anyone.",
    ),
    (
        "send-otp",
        "fra",
        "Votre code de vérification eSignet",
        "Votre code de vérification eSignet est {challenge}. Ne le communiquez à personne.",
    ),
    (
        "send-otp",
        "ara",
        "رمز التحقق من eSignet",
        "رمز التحقق الخاص بك في eSignet هو {challenge}. لا تشاركه مع أي شخص.",
    ),
    (
        "send-otp",
        "hin",
        "आपका eSignet सत्यापन कोड",
        "आपका eSignet सत्यापन कोड {challenge} है। इसे किसी के साथ साझा न करें।",
    ),
    (
        "send-otp",
        "kan",
        "ನಿಮ್ಮ eSignet ಪರಿಶೀಲನಾ ಕೋಡ್",
        "ನಿಮ್ಮ eSignet ಪರಿಶೀಲನಾ ಕೋಡ್ {challenge}. ಇದನ್ನು ಯಾರೊಂದಿಗೂ ಹಂಚಿಕೊಳ್ಳಬೇಡಿ.",
    ),
    (
        "send-otp",
        "tam",
        "உங்கள் eSignet சரிபார்ப்பு குறியீடு",
        "உங்கள் eSignet சரிபார்ப்பு குறியீடு {challenge}. இதை யாருடனும் பகிர வேண்டாம்.",
    ),
    (
        "send-otp",
        "khm",
        "លេខកូដផ្ទៀងផ្ទាត់ eSignet របស់អ្នក",
        "លេខកូដផ្ទៀងផ្ទាត់ eSignet របស់អ្នកគឺ {challenge}។ កុំចែករំលែកវាជាមួយនរណាម្នាក់។",
    ),
    (
        "registration",
        "eng",
        "Your eSignet account is ready",
        "Your eSignet account has been registered successfully.",
    ),
    (
        "registration",
        "fra",
        "Votre compte eSignet est prêt",
        "Votre compte eSignet a été créé avec succès.",
    ),
    (
        "registration",
        "ara",
        "حسابك في eSignet جاهز",
        "تم تسجيل حسابك في eSignet بنجاح.",
    ),
    (
        "registration",
        "hin",
        "आपका eSignet खाता तैयार है",
        "आपका eSignet खाता सफलतापूर्वक पंजीकृत हो गया है।",
    ),
    (
        "registration",
        "kan",
        "ನಿಮ್ಮ eSignet ಖಾತೆ ಸಿದ್ಧವಾಗಿದೆ",
        "ನಿಮ್ಮ eSignet ಖಾತೆಯನ್ನು ಯಶಸ್ವಿಯಾಗಿ ನೋಂದಾಯಿಸಲಾಗಿದೆ.",
    ),
    (
        "registration",
        "tam",
        "உங்கள் eSignet கணக்கு தயார்",
        "உங்கள் eSignet கணக்கு வெற்றிகரமாக பதிவு செய்யப்பட்டது.",
    ),
    (
        "registration",
        "khm",
        "គណនី eSignet របស់អ្នករួចរាល់ហើយ",
        "គណនី eSignet របស់អ្នកត្រូវបានចុះឈ្មោះដោយជោគជ័យ។",
    ),
    (
        "forgot-password",
        "eng",
        "Your eSignet password was changed",
        "Your eSignet password has been changed. If you did not do this, contact support.",
    ),
    (
        "forgot-password",
        "fra",
        "Votre mot de passe eSignet a été modifié",
        "Votre mot de passe eSignet a été modifié. Si ce n'est pas vous, contactez l'assistance.",
    ),
    (
        "forgot-password",
        "ara",
        "تم تغيير كلمة مرور eSignet",
        "تم تغيير كلمة مرور eSignet الخاصة بك. إذا لم تقم بذلك، فاتصل بالدعم.",
    ),
    (
        "forgot-password",
        "hin",
        "आपका eSignet पासवर्ड बदल दिया गया",
        "आपका eSignet पासवर्ड बदल दिया गया है। यदि यह आपने नहीं किया, तो सहायता से संपर्क करें।",
    ),
    (
        "forgot-password",
        "kan",
        "ನಿಮ್ಮ eSignet ಪಾಸ್‌ವರ್ಡ್ ಬದಲಾಗಿದೆ",
        "ನಿಮ್ಮ eSignet ಪಾಸ್‌ವರ್ಡ್ ಬದಲಾಯಿಸಲಾಗಿದೆ. ಇದನ್ನು ನೀವು ಮಾಡದಿದ್ದರೆ, ಬೆಂಬಲವನ್ನು ಸಂಪರ್ಕಿಸಿ.",
    ),
    (
        "forgot-password",
        "tam",
        "உங்கள் eSignet கடவுச்சொல் மாற்றப்பட்டது",
        "உங்கள் eSignet கடவுச்சொல் மாற்றப்பட்டது. இதை நீங்கள் செய்யவில்லை என்றால், உதவியைத் தொடர்பு கொள்ளவும்.",
    ),
    (
        "forgot-password",
        "khm",
        "ពាក្យសម្ងាត់ eSignet របស់អ្នកត្រូវបានប្តូរ",
        "ពាក្យសម្ងាត់ eSignet របស់អ្នកត្រូវបានប្តូរ។ ប្រសិនបើមិនមែនជាអ្នកទេ សូមទាក់ទងផ្នែកជំនួយ។",
    ),
];

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The e-mail subject (unused over SMS).
    pub subject: String,
    /// The text, placeholders substituted. Secret: holds the OTP.
    pub body: String,
}

/// Texts and subjects per (template, language), with a fallback language.
#[derive(Debug, Clone)]
pub struct Templates {
    texts: HashMap<(String, String), String>,
    subjects: HashMap<(String, String), String>,
    default_language: String,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new("eng", &BTreeMap::new(), &BTreeMap::new())
    }
}

impl Templates {
    /// The built-in texts, with `texts` and `subjects` (template → language → text) replacing
    /// or adding to them; `default_language` is used when a message's language has none.
    pub fn new(
        default_language: &str,
        texts: &BTreeMap<String, BTreeMap<String, String>>,
        subjects: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Self {
        let mut out = Self {
            texts: HashMap::new(),
            subjects: HashMap::new(),
            default_language: default_language.to_owned(),
        };
        for (template, language, subject, text) in DEFAULTS {
            let key = ((*template).to_owned(), (*language).to_owned());
            out.subjects.insert(key.clone(), (*subject).to_owned());
            out.texts.insert(key, (*text).to_owned());
        }
        for (target, overrides) in [(&mut out.texts, texts), (&mut out.subjects, subjects)] {
            for (template, languages) in overrides {
                for (language, text) in languages {
                    target.insert((template.clone(), language.clone()), text.clone());
                }
            }
        }
        out
    }

    /// Renders `template` in `locale` (three letters; the UI's two-letter codes are mapped),
    /// falling back to the default language and then English, substituting `values`.
    ///
    /// # Errors
    /// [`NotificationError::MissingTemplate`] when no language has a text.
    pub fn render(
        &self,
        template: NotificationTemplate,
        locale: &str,
        values: &BTreeMap<String, String>,
    ) -> Result<Rendered, NotificationError> {
        let name = template.as_str();
        let language = three_letter(locale);
        let text = [language, self.default_language.as_str(), "eng"]
            .into_iter()
            .find_map(|lang| {
                self.texts
                    .get(&(name.to_owned(), lang.to_owned()))
                    .map(|text| (lang, text))
            });
        let Some((language, text)) = text else {
            return Err(NotificationError::MissingTemplate(name));
        };
        let subject = [language, self.default_language.as_str(), "eng"]
            .into_iter()
            .find_map(|lang| self.subjects.get(&(name.to_owned(), lang.to_owned())))
            .cloned()
            .unwrap_or_else(|| "eSignet".to_owned());
        Ok(Rendered {
            subject: substitute(&subject, values),
            body: substitute(text, values),
        })
    }

    /// Every (template, language) pair with a text: the built-in set covers all of them.
    pub fn covers_every_language(&self) -> bool {
        TEMPLATES.iter().all(|t| {
            LANGUAGES.iter().all(|l| {
                self.texts
                    .contains_key(&(t.as_str().to_owned(), (*l).to_owned()))
            })
        })
    }
}

/// The three-letter code of a UI language given either way (`ar` or `ara`).
fn three_letter(locale: &str) -> &str {
    let lower = locale.trim();
    let primary = lower.split(['-', '_']).next().unwrap_or(lower);
    match primary {
        "en" => "eng",
        "fr" => "fra",
        "ar" => "ara",
        "hi" => "hin",
        "kn" => "kan",
        "ta" => "tam",
        "km" => "khm",
        other => other,
    }
}

/// Replaces each `{name}` with its value in one pass (a value is never re-scanned, so an OTP
/// or a name containing braces cannot inject a placeholder). `{otp}` and `{challenge}` stand
/// for each other when only one is supplied; unknown placeholders stay as they are.
fn substitute(text: &str, values: &BTreeMap<String, String>) -> String {
    let lookup = |name: &str| -> Option<&String> {
        values.get(name).or_else(|| match name {
            "otp" => values.get("challenge"),
            "challenge" => values.get("otp"),
            _ => None,
        })
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                match lookup(&after[..end]) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn every_template_has_a_built_in_text_in_every_ui_language() {
        assert!(Templates::default().covers_every_language());
        assert_eq!(DEFAULTS.len(), TEMPLATES.len() * LANGUAGES.len());
    }

    #[test]
    fn renders_in_the_language_asked_with_values_substituted() {
        let templates = Templates::default();
        let rendered = templates
            .render(
                NotificationTemplate::LoginOtp,
                "ara",
                &values(&[("otp", "482913"), ("validity_minutes", "3")]),
            )
            .unwrap();
        assert!(rendered.body.contains("482913"));
        assert!(rendered.body.contains("3 دقائق"));
        assert_eq!(rendered.subject, "رمز تسجيل الدخول إلى eSignet");
        // The UI's two-letter code names the same language.
        let two = templates
            .render(
                NotificationTemplate::LoginOtp,
                "ar",
                &values(&[("otp", "1")]),
            )
            .unwrap();
        assert!(two.body.starts_with("رمز"));
    }

    #[test]
    fn unknown_languages_fall_back_to_the_default_language() {
        let templates = Templates::new("fra", &BTreeMap::new(), &BTreeMap::new());
        let rendered = templates
            .render(
                NotificationTemplate::SignupOtp,
                "deu",
                &values(&[("challenge", "1234")]),
            )
            .unwrap();
        assert_eq!(
            rendered.body,
            "Votre code de vérification eSignet est 1234. Ne le communiquez à personne."
        );
    }

    #[test]
    fn overrides_replace_and_add_texts() {
        let texts = BTreeMap::from([(
            "send-otp".to_owned(),
            BTreeMap::from([
                ("eng".to_owned(), "Code: {otp} {unknown} {".to_owned()),
                ("swa".to_owned(), "Nambari {challenge}".to_owned()),
            ]),
        )]);
        let subjects = BTreeMap::from([(
            "send-otp".to_owned(),
            BTreeMap::from([("eng".to_owned(), "Code".to_owned())]),
        )]);
        let templates = Templates::new("eng", &texts, &subjects);
        let eng = templates
            .render(
                NotificationTemplate::SignupOtp,
                "eng",
                &values(&[("challenge", "{otp}")]),
            )
            .unwrap();
        // {otp} takes the challenge, which is not re-scanned.
        assert_eq!(eng.body, "Code: {otp} {unknown} {");
        assert_eq!(eng.subject, "Code");
        let swa = templates
            .render(
                NotificationTemplate::SignupOtp,
                "swa",
                &values(&[("challenge", "77")]),
            )
            .unwrap();
        assert_eq!(swa.body, "Nambari 77");
        // No subject in Swahili: the default language's.
        assert_eq!(swa.subject, "Code");
    }

    #[test]
    fn a_template_without_any_text_is_missing() {
        let mut templates = Templates::default();
        templates.texts.retain(|(t, _), _| t != "registration");
        assert_eq!(
            templates.render(NotificationTemplate::Registration, "eng", &BTreeMap::new()),
            Err(NotificationError::MissingTemplate("registration"))
        );
    }
}
