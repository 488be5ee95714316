// Shared helpers of the eSignet-rs pages: translations, the wrapped API client, the
// oauth-details fragment and its hash, redirects back to the relying party, and the language
// switcher. No framework: the server renders the markup, these modules wire it up.

const body = document.body;

/** Page settings rendered by the server on <body>. */
export const config = {
  api: body.dataset.api || "/v1/esignet",
  lang: body.dataset.lang || "en",
  lang3: body.dataset.lang3 || "eng",
  sendOtpAttempts: Number(body.dataset.sendOtpAttempts) || 0,
  authenticateAttempts: Number(body.dataset.authenticateAttempts) || 0,
};

/** The query of the current URL. */
export const query = new URLSearchParams(location.search);

let catalogue = {};
try {
  catalogue = JSON.parse(document.getElementById("i18n").textContent) || {};
} catch {
  catalogue = {};
}

/**
 * The translation of `key` with `{name}` placeholders filled from `vars`; the key if missing.
 * Values are wrapped in Unicode isolates (FSI…PDI) so a left-to-right value (an e-mail, a
 * client name) keeps its order inside right-to-left text, and the reverse.
 */
export function t(key, vars) {
  let text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? "\u2068" + String(vars[name]) + "\u2069" : m));
  }
  return text;
}

/** The translation of `key` if the page has it, else `fallback`. */
export function tOr(key, fallback) {
  return Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : fallback;
}

/** The resident-facing message of an API or flow error code. */
export function errorMessage(code) {
  return tOr("errors." + code, t("js.common.unknown_error_code", { code }));
}

/** The element with `id`. */
export const $ = (id) => document.getElementById(id);

/** A copy of the content of <template id=`id`>. */
export function clone(id) {
  return $(id).content.cloneNode(true);
}

/** Creates an element with properties (`text` sets textContent) and children. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

/** Shows `message` in the page's alert region (role=alert), or clears it. */
export function showError(message) {
  const alert = $("alert");
  if (alert) alert.textContent = message || "";
  if (message) setLoading(false);
}

/** Announces `message` politely to screen readers through the status region. */
export function announce(message) {
  const status = $("status");
  if (!status) return;
  status.textContent = "";
  // A changed node is announced more reliably than the same text set twice.
  setTimeout(() => (status.textContent = message), 60);
}

/** Shows or hides the page's loading indicator. */
export function setLoading(on) {
  const loading = $("loading");
  if (loading) loading.hidden = !on;
}

/** Marks a form busy: its submit button is disabled for pointer and keyboard alike. */
export function setBusy(form, busy) {
  form.setAttribute("aria-busy", busy ? "true" : "false");
  for (const button of form.querySelectorAll("button[type=submit]")) {
    button.disabled = busy;
  }
}

/** Sets or clears the error text of a field and its aria-invalid state. */
export function fieldError(input, errorEl, message) {
  errorEl.textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

// --- base64 and hashing -------------------------------------------------------------------

function bytesToBinary(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return binary;
}

/** Standard base64 of the UTF-8 bytes of `text` (what oidc-ui's Buffer.toString("base64") gives). */
export function utf8ToBase64(text) {
  return btoa(bytesToBinary(new TextEncoder().encode(text)));
}

/** base64url without padding of `bytes`. */
export function base64url(bytes) {
  return btoa(bytesToBinary(bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * `url` of a signup page with this tab's authorize query in the fragment (signup 1.2's
 * `<url>#<base64url(authorize query)>`), so "log in" there brings the resident back to the same
 * relying party. A pushed request's `request_uri` is single use, so PAR logins keep no query.
 * Also records this login's URL for the signup pages (same origin, same tab).
 */
export function withAuthorizeQuery(url) {
  // The signup pages' "log in" returns here while this login's transaction lives.
  sessionStorage.setItem("loginUrl", location.pathname + location.search + location.hash);
  const kept = sessionStorage.getItem("authorizeQuery");
  return kept ? url + "#" + base64url(new TextEncoder().encode(kept)) : url;
}

/** Decodes standard or URL-safe base64, padded or not, into a UTF-8 string (throws if invalid). */
export function base64ToUtf8(text) {
  let b64 = text.replace(/-/g, "+").replace(/_/g, "/").replace(/\s/g, "");
  while (b64.length % 4) b64 += "=";
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

// SHA-256 for pages served over plain HTTP to a non-loopback host, where WebCrypto is absent.
function sha256(data) {
  const k = [];
  const h = [];
  const frac = (x) => ((x - Math.floor(x)) * 4294967296) | 0;
  for (let n = 2, found = 0; found < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (!prime) continue;
    if (found < 8) h[found] = frac(Math.pow(n, 1 / 2));
    k[found++] = frac(Math.pow(n, 1 / 3));
  }
  const length = data.length;
  const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
  padded.set(data);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 4, length * 8);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  const w = new Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i] + v) | 0));
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((v, i) => outView.setUint32(i * 4, v >>> 0));
  return out;
}

/** SHA-256 of `bytes` (WebCrypto when the context allows it). */
export async function digest(bytes) {
  if (globalThis.crypto && crypto.subtle) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }
  return sha256(bytes);
}

// --- the oauth-details fragment -----------------------------------------------------------

/**
 * The login session carried by the URL fragment: the oauth-details response (base64 of its
 * JSON, as oidc-ui writes it) and its hash, B64U(SHA-256(JSON.stringify(details))), which the
 * server compares with the hash of the bytes it sent. Resolves to null when the fragment is
 * missing or unreadable.
 */
export async function readSession(fromFragment) {
  let details;
  try {
    let fragment = fromFragment ?? location.hash.slice(1);
    if (fragment.includes("%")) fragment = decodeURIComponent(fragment);
    details = JSON.parse(base64ToUtf8(fragment));
  } catch {
    return null;
  }
  if (!details || typeof details !== "object" || typeof details.transactionId !== "string") return null;
  const hash = base64url(await digest(new TextEncoder().encode(JSON.stringify(details))));
  return { details, hash, configs: details.configs || {} };
}

/** The value for this page's language of an eSignet language map (`{eng: .., "@none": ..}`). */
export function localized(value) {
  if (typeof value === "string") return value;
  if (!value || typeof value !== "object") return "";
  return value[config.lang3] ?? value[config.lang] ?? value["@none"] ?? value.eng ?? Object.values(value)[0] ?? "";
}

/** Fills the client name and logo of the card header. */
export function showClient(session) {
  const name = localized(session.details.clientName);
  const info = $("client-info");
  if (!info) return name;
  $("client-name").textContent = name;
  const logo = $("client-logo");
  if (session.details.logoUrl) {
    logo.alt = t("js.common.client_logo", { client: name });
    logo.addEventListener("error", () => (logo.hidden = true), { once: true });
    logo.src = session.details.logoUrl;
    logo.hidden = false;
  }
  info.hidden = false;
  return name;
}

// --- the wrapped API ---------------------------------------------------------------------

/** A failed call: `code` is the eSignet error code, `network_error` or `http_error`. */
export class ApiError extends Error {
  constructor(code, status) {
    super(code);
    this.code = code;
    this.status = status;
  }
  /** Whether the flow cannot go on from this page (no network or an unexpected HTTP status). */
  get fatal() {
    return this.code === "network_error" || this.code === "http_error";
  }
}

async function csrfToken(fresh) {
  let token = fresh ? null : sessionStorage.getItem("csrfToken");
  if (!token) {
    let response;
    try {
      response = await fetch(config.api + "/csrf/token", { credentials: "same-origin", cache: "no-store" });
    } catch {
      throw new ApiError("network_error", 0);
    }
    if (!response.ok) throw new ApiError("http_error", response.status);
    token = (await response.json()).token;
    sessionStorage.setItem("csrfToken", token);
  }
  return token;
}

/**
 * Calls a wrapped API: POST bodies are `{requestTime, request}`; with a `session` the
 * oauth-details-key and -hash headers are sent. Resolves to `response`; rejects with ApiError
 * (the first `errors[]` code, `network_error`, or `http_error` for another status without a
 * wrapped error). A 403 (stale CSRF cookie) is retried once with a fresh token.
 */
export async function call(method, path, request, session) {
  for (let attempt = 0; ; attempt++) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (session) {
      headers["oauth-details-key"] = session.details.transactionId;
      headers["oauth-details-hash"] = session.hash;
    }
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      headers["X-XSRF-TOKEN"] = await csrfToken(attempt > 0);
      init.body = JSON.stringify({ requestTime: new Date().toISOString(), request });
    }
    let response;
    try {
      response = await fetch(config.api + path, init);
    } catch {
      throw new ApiError("network_error", 0);
    }
    if (response.status === 403 && method !== "GET" && attempt === 0) continue;
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    const errors = payload && Array.isArray(payload.errors) ? payload.errors : [];
    if (errors.length) throw new ApiError(errors[0].errorCode || "unknown_error", response.status);
    if (!response.ok || !payload) throw new ApiError("http_error", response.status);
    return payload.response;
  }
}

/** Leaves for the network or status error page after a fatal ApiError. */
export function leaveForStatusPage(error) {
  const lang = "ui_locales=" + encodeURIComponent(config.lang);
  if (error.code === "network_error") {
    sessionStorage.setItem("retryUrl", location.href);
    location.assign("/network-error?" + lang);
  } else {
    location.assign("/something-went-wrong?status=" + encodeURIComponent(error.status || 0) + "&" + lang);
  }
}

/** `url` with `params` appended to its query (the redirect URI may already have one). */
export function withQuery(url, params) {
  const [base, fragment] = url.split("#", 2);
  const separator = base.includes("?") ? (/[?&]$/.test(base) ? "" : "&") : "?";
  return base + separator + params.toString() + (fragment === undefined ? "" : "#" + fragment);
}

/**
 * Ends the flow at the relying party with an OAuth error. Only for a session whose
 * oauth-details call succeeded: that is when the server has validated `redirectUri`.
 */
export function redirectWithError(session, code, sessionQuery = query) {
  const params = new URLSearchParams();
  params.set("error", code);
  params.set("error_description", errorMessage(code));
  const state = sessionQuery.get("state");
  if (state) params.set("state", state);
  location.replace(withQuery(session.details.redirectUri, params));
}

/** Redirects to the relying party with an authorization code (RFC 9207 `iss` included). */
export function redirectWithCode(session, result) {
  const params = new URLSearchParams();
  const state = result.state ?? query.get("state");
  if (state) params.set("state", state);
  params.set("code", result.code);
  if (session.configs.issuer) params.set("iss", session.configs.issuer);
  location.replace(withQuery(result.redirectUri || session.details.redirectUri, params));
}

/** The page path with the session's query and fragment carried over (`/consent?...#...`). */
export function nextPage(path, params) {
  return path + "?" + params.toString() + location.hash;
}

/** Minutes and seconds (`m:ss`) of a non-negative number of seconds. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

/** Shows a fatal in-page error (no way back to the relying party) and moves focus to it. */
export function failInPlace(message) {
  setLoading(false);
  showError(message);
  const heading = $("page-heading");
  if (heading) heading.focus();
}

// --- language switcher ---------------------------------------------------------------------

function enhanceLanguageSwitcher() {
  const switcher = $("language-switcher");
  if (!switcher) return;
  for (const link of switcher.querySelectorAll("a[data-lang-link]")) {
    link.addEventListener("click", (event) => {
      document.cookie = "i18nextLng=" + link.dataset.langLink + "; Path=/; Max-Age=31536000; SameSite=Lax";
      // The server never sees the fragment: carry it over so the flow survives the reload.
      if (location.hash) {
        event.preventDefault();
        location.replace(link.getAttribute("href") + location.hash);
      }
    });
  }
  switcher.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && switcher.open) {
      switcher.open = false;
      $("language-button").focus();
    }
  });
}

enhanceLanguageSwitcher();
