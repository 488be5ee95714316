//! The account form of the signup pages for the signup schema (served by the mock identity
//! system's `GET /identity/ui-spec` and by the built-in registry), in the
//! json-form-builder format the signup pages render (as the Java mock's
//! `mock-identity-signup-ui-spec.json`, with this mock's member names: `dateOfBirth` written
//! `yyyy/MM/dd`, `preferredLang` an ISO 639-3 code).
//!
//! Labels come in English, French and Arabic; the pages fall back to English for the other
//! languages. The phone field is filled in by the page with the verified number.

use serde_json::{Value, json};

/// The notification languages offered: the seven languages of the login pages.
const LANGUAGES: &[(&str, &str)] = &[
    ("eng", "English"),
    ("fra", "Français"),
    ("ara", "العربية"),
    ("hin", "हिन्दी"),
    ("tam", "தமிழ்"),
    ("kan", "ಕನ್ನಡ"),
    ("khm", "ខ្មែរ"),
];

/// The form: phone (read-only), full name, e-mail, birth date, password, notification
/// language and consent.
pub fn signup_ui_spec() -> Value {
    let languages: serde_json::Map<String, Value> = LANGUAGES
        .iter()
        .map(|(code, name)| ((*code).to_owned(), json!({ "eng": name })))
        .collect();
    json!({
        "schema": [
            {
                "id": "phone",
                "controlType": "phone",
                "labelName": {"eng": "Phone number", "fra": "Numéro de téléphone", "ara": "رقم الهاتف"},
                "required": true,
                "disabled": true
            },
            {
                "id": "fullName",
                "controlType": "textbox",
                "type": "simpleType",
                "labelName": {"eng": "Full name", "fra": "Nom complet", "ara": "الاسم الكامل"},
                "placeholder": {"eng": "As on your ID card", "fra": "Comme sur votre carte d'identité", "ara": "كما في بطاقة هويتك"},
                "validators": [{
                    "regex": "^\\S.{0,79}$",
                    "error": {"eng": "Enter 1 to 80 characters, not starting with a space.", "fra": "Saisissez 1 à 80 caractères, sans espace au début.", "ara": "أدخل من 1 إلى 80 حرفًا دون مسافة في البداية."}
                }],
                "required": true
            },
            {
                "id": "email",
                "controlType": "textbox",
                "labelName": {"eng": "E-mail (optional)", "fra": "E-mail (facultatif)", "ara": "البريد الإلكتروني (اختياري)"},
                "validators": [{
                    "regex": "^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\\.[a-zA-Z0-9.-]+$",
                    "error": {"eng": "Enter an e-mail address such as name@example.org.", "fra": "Saisissez une adresse e-mail comme nom@example.org.", "ara": "أدخل بريدًا إلكترونيًا مثل name@example.org."}
                }],
                "required": false
            },
            {
                "id": "dateOfBirth",
                "controlType": "date",
                "labelName": {"eng": "Date of birth (optional)", "fra": "Date de naissance (facultatif)", "ara": "تاريخ الميلاد (اختياري)"},
                "format": "yyyy/MM/dd",
                "required": false
            },
            {
                "id": "password",
                "controlType": "password",
                "labelName": {"eng": "Password", "fra": "Mot de passe", "ara": "كلمة المرور"},
                "info": {"eng": "You will log in with your phone number and this password.", "fra": "Vous vous connecterez avec votre numéro de téléphone et ce mot de passe.", "ara": "ستسجل الدخول برقم هاتفك وكلمة المرور هذه."},
                "required": true
            },
            {
                "id": "preferredLang",
                "controlType": "dropdown",
                "labelName": {"eng": "Notification language", "fra": "Langue des notifications", "ara": "لغة الإشعارات"},
                "required": true
            },
            {
                "id": "consent",
                "controlType": "checkbox",
                "labelName": {"eng": "I agree to the storing and processing of my information as required.", "fra": "J'accepte la conservation et le traitement de mes informations, comme requis.", "ara": "أوافق على تخزين معلوماتي ومعالجتها حسب الحاجة."},
                "required": true
            }
        ],
        "allowedValues": {"preferredLang": languages},
        "language": {
            "mandatory": ["eng"],
            "optional": ["fra", "ara", "hin", "tam", "kan", "khm"],
            "langCodeMap": {"eng": "en", "fra": "fr", "ara": "ar", "hin": "hi", "tam": "ta", "kan": "kn", "khm": "km"}
        }
    })
}
