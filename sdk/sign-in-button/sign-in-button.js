// "Sign in with eSignet": a small, dependency-free button for relying parties.
//
// It renders an accessible button in the resident's language (seven languages, Arabic right
// to left) and, when pressed, starts an OpenID Connect login at an eSignet-rs provider in one
// of two ways:
//   * `prepare`: an async callback of the relying party (typically a fetch to its own back
//     end, which pushes the request with PAR and keeps the PKCE verifier and state in its
//     session) returns the URL to go to, or `{ requestUri }` to build the PAR authorize URL;
//   * `authorize`: the button builds the authorize URL itself from the parameters given,
//     generating `state`, `nonce` and the PKCE pair in the browser, and hands the secrets to
//     `onSecrets` for the relying party to keep (its back end redeems the code).
// With `dpop: true` the button generates a non-extractable P-256 key pair with WebCrypto,
// passes its RFC 7638 thumbprint as `dpop_jkt` (RFC 9449 section 10) and gives the key pair to
// `onDpopKey`; `createDpopProof` signs proofs with it.
//
// Why no framework and no build step: relying parties embed this on their own pages, often
// under a strict CSP; one ES module of a few kilobytes, loaded from the provider, is the least
// they have to trust.

const LABELS = {
  en: { signIn: "Sign in with eSignet", busy: "Opening eSignet…", failed: "Sign-in could not start. Please try again." },
  fr: { signIn: "Se connecter avec eSignet", busy: "Ouverture d’eSignet…", failed: "La connexion n’a pas pu démarrer. Veuillez réessayer." },
  ar: { signIn: "تسجيل الدخول باستخدام eSignet", busy: "جارٍ فتح eSignet…", failed: "تعذّر بدء تسجيل الدخول. يُرجى المحاولة مرة أخرى." },
  hi: { signIn: "eSignet से साइन इन करें", busy: "eSignet खुल रहा है…", failed: "साइन इन शुरू नहीं हो सका। कृपया फिर से प्रयास करें।" },
  kn: { signIn: "eSignet ಮೂಲಕ ಸೈನ್ ಇನ್ ಮಾಡಿ", busy: "eSignet ತೆರೆಯಲಾಗುತ್ತಿದೆ…", failed: "ಸೈನ್ ಇನ್ ಪ್ರಾರಂಭವಾಗಲಿಲ್ಲ. ದಯವಿಟ್ಟು ಮತ್ತೆ ಪ್ರಯತ್ನಿಸಿ." },
  ta: { signIn: "eSignet மூலம் உள்நுழையவும்", busy: "eSignet திறக்கப்படுகிறது…", failed: "உள்நுழைவைத் தொடங்க முடியவில்லை. மீண்டும் முயலவும்." },
  km: { signIn: "ចូលដោយប្រើ eSignet", busy: "កំពុងបើក eSignet…", failed: "មិនអាចចាប់ផ្តើមការចូលបានទេ។ សូមព្យាយាមម្តងទៀត។" },
};

const THREE_LETTER = { eng: "en", fra: "fr", ara: "ar", hin: "hi", kan: "kn", tam: "ta", khm: "km" };
const RIGHT_TO_LEFT = new Set(["ar"]);

/** The supported two-letter language codes, English first. */
export const LANGUAGES = Object.keys(LABELS);

/**
 * The best supported language for `preferred` (a BCP 47 tag, a three-letter code, or a
 * space-separated `ui_locales` list), else English.
 */
export function pickLanguage(preferred) {
  for (const tag of String(preferred ?? "").split(/[\s,]+/)) {
    const primary = tag.split(/[-_]/)[0].toLowerCase();
    const code = THREE_LETTER[primary] ?? primary;
    if (Object.hasOwn(LABELS, code)) return code;
  }
  return "en";
}

/** The button's texts in `language` (see `pickLanguage`). */
export function labels(language) {
  return LABELS[pickLanguage(language)];
}

function base64url(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function utf8(text) {
  return new TextEncoder().encode(text);
}

/** A URL-safe random string of `bytes` random bytes (CSPRNG). */
export function randomToken(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export async function createPkce() {
  const verifier = randomToken(32);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", utf8(verifier)));
  return { verifier, challenge, method: "S256" };
}

const PARAMETERS = [
  "client_id", "redirect_uri", "scope", "response_type", "state", "nonce", "acr_values",
  "claims", "claims_locales", "ui_locales", "display", "prompt", "max_age",
  "code_challenge", "code_challenge_method", "dpop_jkt", "id_token_hint", "request_uri",
];

/**
 * The authorize URL at `issuer` for `params` (snake_case OAuth names; `claims` may be an
 * object). Unknown parameter names are refused rather than silently sent.
 */
export function buildAuthorizeUrl(issuer, params) {
  const url = new URL("authorize", String(issuer).replace(/\/?$/, "/"));
  for (const [name, value] of Object.entries(params)) {
    if (!PARAMETERS.includes(name)) throw new Error(`unknown authorize parameter: ${name}`);
    if (value === undefined || value === null || value === "") continue;
    url.searchParams.set(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  return url.toString();
}

/** A non-extractable P-256 key pair for DPoP and its public JWK's RFC 7638 thumbprint. */
export async function createDpopKey() {
  const keyPair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
  const publicJwk = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return { keyPair, publicJwk, jkt: await jwkThumbprint(publicJwk) };
}

/** The RFC 7638 SHA-256 thumbprint of an EC or RSA public JWK. */
export async function jwkThumbprint(jwk) {
  const members = jwk.kty === "EC"
    ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return base64url(await crypto.subtle.digest("SHA-256", utf8(JSON.stringify(members))));
}

/**
 * A DPoP proof (RFC 9449) for `htm` `htu`, signed with `dpopKey` from `createDpopKey`;
 * `accessToken` adds `ath`, `nonce` the server's nonce.
 */
export async function createDpopProof(dpopKey, htm, htu, { nonce, accessToken } = {}) {
  const header = { typ: "dpop+jwt", alg: "ES256", jwk: dpopKey.publicJwk };
  const claims = { jti: randomToken(16), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (nonce) claims.nonce = nonce;
  if (accessToken) claims.ath = base64url(await crypto.subtle.digest("SHA-256", utf8(accessToken)));
  const input = `${base64url(utf8(JSON.stringify(header)))}.${base64url(utf8(JSON.stringify(claims)))}`;
  // WebCrypto's ECDSA signature is already the raw r || s that JWS ES256 wants.
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, dpopKey.keyPair.privateKey, utf8(input));
  return `${input}.${base64url(signature)}`;
}

const STYLE = `
.esignet-sign-in{display:inline-flex;align-items:center;gap:.6em;font:600 1rem/1.2 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
color:#fff;background:#0b5394;border:2px solid #0b5394;border-radius:6px;padding:.6em 1.1em;cursor:pointer}
.esignet-sign-in:hover{background:#083d6d}
.esignet-sign-in:focus-visible{outline:3px solid #b35c00;outline-offset:2px}
.esignet-sign-in[aria-busy=true]{cursor:progress;opacity:.85}
.esignet-sign-in svg{width:1.25em;height:1.25em;flex:none}
.esignet-sign-in-error{color:#8c1d18;margin:.4em 0 0;font:400 .95rem system-ui,sans-serif}`;

const MARK = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 2 3 6v6c0 5 3.8 9.3 9 10 5.2-.7 9-5 9-10V6zm-1.2 14.2-3.6-3.6 1.4-1.4 2.2 2.2 5-5 1.4 1.4z"/></svg>';

function ensureStyle(doc) {
  if (doc.getElementById("esignet-sign-in-style")) return;
  const style = doc.createElement("style");
  style.id = "esignet-sign-in-style";
  if (globalThis.ESIGNET_SIGN_IN_NONCE) style.nonce = globalThis.ESIGNET_SIGN_IN_NONCE;
  style.textContent = STYLE;
  doc.head.append(style);
}

/**
 * Renders the button into `target` (an element or a CSS selector) and returns it.
 *
 * options:
 *   language    preferred language(s) (default: the page's `lang`, then the browser's);
 *   label       overrides the text (the relying party translates it then);
 *   prepare     async () => string | { requestUri, clientId }: the relying party starts the
 *               login (e.g. PAR from its back end) and returns where to go;
 *   issuer      the provider's issuer URL (needed with `authorize` or `{ requestUri }`);
 *   authorize   authorize parameters (client_id, redirect_uri, scope, acr_values, claims, ...);
 *               state, nonce and the PKCE pair are generated unless given;
 *   onSecrets   async ({ state, nonce, codeVerifier }) => void: keep them for the callback;
 *   dpop        true to bind the tokens to a browser-held key (adds dpop_jkt);
 *   onDpopKey   async (dpopKey) => void: keep the key (e.g. in IndexedDB) for token calls;
 *   navigate    (url) => void, default `location.assign`.
 */
export function renderSignInButton(target, options = {}) {
  const doc = options.document ?? globalThis.document;
  const host = typeof target === "string" ? doc.querySelector(target) : target;
  if (!host) throw new Error("sign-in button: target element not found");
  if (!options.prepare && !options.authorize) throw new Error("sign-in button: give `prepare` or `authorize`");
  const language = pickLanguage(options.language ?? (doc.documentElement.lang || globalThis.navigator?.language));
  const text = LABELS[language];
  ensureStyle(doc);

  const button = doc.createElement("button");
  button.type = "button";
  button.className = "esignet-sign-in";
  button.lang = language;
  button.dir = RIGHT_TO_LEFT.has(language) ? "rtl" : "ltr";
  button.innerHTML = MARK;
  const caption = doc.createElement("span");
  caption.textContent = options.label ?? text.signIn;
  button.append(caption);
  const error = doc.createElement("p");
  error.className = "esignet-sign-in-error";
  error.setAttribute("role", "alert");
  error.lang = language;
  error.dir = button.dir;
  error.hidden = true;

  const navigate = options.navigate ?? ((url) => globalThis.location.assign(url));
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    caption.textContent = text.busy;
    error.hidden = true;
    try {
      navigate(await startLogin(options));
    } catch (cause) {
      button.removeAttribute("aria-busy");
      caption.textContent = options.label ?? text.signIn;
      error.textContent = text.failed;
      error.hidden = false;
      options.onError?.(cause);
    }
  });
  host.replaceChildren(button, error);
  return button;
}

/** Works out where the button goes (exported for relying parties with their own button). */
export async function startLogin(options) {
  let dpopKey;
  if (options.dpop) {
    dpopKey = await createDpopKey();
    await options.onDpopKey?.(dpopKey);
  }
  if (options.prepare) {
    const prepared = await options.prepare({ dpopJkt: dpopKey?.jkt });
    if (typeof prepared === "string") return prepared;
    if (prepared?.requestUri) {
      return buildAuthorizeUrl(options.issuer, { client_id: prepared.clientId, request_uri: prepared.requestUri });
    }
    throw new Error("sign-in button: `prepare` returned neither a URL nor a requestUri");
  }
  const params = { response_type: "code", scope: "openid", ...options.authorize };
  params.state ??= randomToken(16);
  params.nonce ??= randomToken(16);
  let codeVerifier;
  if (!params.code_challenge) {
    const pkce = await createPkce();
    codeVerifier = pkce.verifier;
    params.code_challenge = pkce.challenge;
    params.code_challenge_method = pkce.method;
  }
  if (dpopKey) params.dpop_jkt = dpopKey.jkt;
  await options.onSecrets?.({ state: params.state, nonce: params.nonce, codeVerifier });
  return buildAuthorizeUrl(options.issuer, params);
}
