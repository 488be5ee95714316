// Shared helpers of the signup pages: translations, the /v1/signup API client (request
// envelope, CSRF token), settings, the base64url fragment carrying the authorize request, step
// switching and polling. No framework: the server renders the markup, these modules wire it.

const body = document.body;

/** Page settings rendered by the server on <body>. */
export const config = {
  api: body.dataset.api || "/v1/signup",
  esignetApi: body.dataset.esignetApi || "/v1/esignet",
  mount: body.dataset.mount || "/signup",
  lang: body.dataset.lang || "en",
  lang3: body.dataset.lang3 || "eng",
  captchaModule: body.dataset.captchaModule || "",
};

export const query = new URLSearchParams(location.search);
export const $ = (id) => document.getElementById(id);

let catalogue = {};
try {
  catalogue = JSON.parse($("i18n").textContent) || {};
} catch {
  catalogue = {};
}

/** Adds entries to the catalogue (the verifier's own strings, companions 3.10). */
export function extendCatalogue(entries) {
  Object.assign(catalogue, entries);
}

/** The translation of `key` with `{name}` placeholders (values isolated for bidi text). */
export function t(key, vars) {
  let text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, n) => (n in vars ? "\u2068" + String(vars[n]) + "\u2069" : m));
  return text;
}

/** The resident-facing message of an API error code. */
export function errorMessage(code) {
  const key = "errors." + code;
  return Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : t("js.common.unknown_error_code", { code });
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

/** Shows the step section `id` alone and moves focus to its heading. */
export function showStep(id) {
  for (const section of document.querySelectorAll("main > section[data-step]")) section.hidden = section.id !== id;
  const heading = $(id) && $(id).querySelector("h1");
  if (heading) heading.focus();
}

/** Politely announces `message` to screen readers. */
export function announce(message) {
  const status = $("status");
  if (status) status.textContent = message;
}

/** Disables a form's controls while a request runs. */
export function setBusy(form, busy) {
  for (const el of form.querySelectorAll("button, input, select")) el.disabled = busy;
  form.setAttribute("aria-busy", busy ? "true" : "false");
}

/** Shows (or clears) the error of one field. */
export function fieldError(input, errorEl, message) {
  errorEl.textContent = message || "";
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
}

export class ApiError extends Error {
  constructor(code, status) {
    super(code);
    this.code = code;
    this.status = status;
  }
}

/** HTTP statuses that end on the something-went-wrong page, as signup-ui does. */
const FATAL_STATUSES = [400, 403, 404, 405, 415, 500, 502, 503, 504];

let csrf = sessionStorage.getItem("signup-csrf");

async function csrfToken(fresh) {
  if (csrf && !fresh) return csrf;
  const response = await fetch(config.api + "/csrf/token", { credentials: "same-origin", cache: "no-store" });
  const payload = await response.json().catch(() => null);
  if (!response.ok || !payload || !payload.token) throw new ApiError("http_error", response.status);
  csrf = payload.token;
  sessionStorage.setItem("signup-csrf", csrf);
  return csrf;
}

/** eSignet's request time format: UTC with milliseconds and a literal Z. */
export function requestTime() {
  return new Date().toISOString();
}

/**
 * Calls the signup API; resolves to `response`, rejects with an ApiError carrying the first
 * `errors[].errorCode` (HTTP 200 business errors) or `http_error` with the status.
 */
export async function call(method, path, request) {
  for (let attempt = 0; ; attempt++) {
    const init = { method, credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    if (method !== "GET") {
      let token;
      try {
        token = await csrfToken(attempt > 0);
      } catch (error) {
        throw error instanceof ApiError ? error : new ApiError("network_error", 0);
      }
      init.headers["Content-Type"] = "application/json";
      init.headers["X-XSRF-TOKEN"] = token;
      init.body = JSON.stringify({ requestTime: requestTime(), request });
    }
    let response;
    try {
      response = await fetch(config.api + path, init);
    } catch {
      throw new ApiError("network_error", 0);
    }
    // A stale CSRF token: fetch a fresh one once.
    if (response.status === 403 && method !== "GET" && attempt === 0) continue;
    const payload = await response.json().catch(() => null);
    const errors = payload && Array.isArray(payload.errors) ? payload.errors : [];
    if (errors.length) throw new ApiError(errors[0].errorCode || "unknown_error", response.status);
    if (!response.ok || !payload) throw new ApiError("http_error", response.status);
    return payload.response;
  }
}

/** Leaves for the something-went-wrong page when `error` is an HTTP failure; else false. */
export function leaveOnHttpError(error) {
  if (!(error instanceof ApiError) || error.code !== "http_error" || !FATAL_STATUSES.includes(error.status)) return false;
  location.assign(config.mount + "/something-went-wrong?status=" + error.status + "&ui_locales=" + encodeURIComponent(config.lang) + location.hash);
  return true;
}

let settingsPromise = null;

/** `GET /settings` → the `configs` map (fetched once per page). */
export function settings() {
  if (!settingsPromise) settingsPromise = call("GET", "/settings").then((r) => (r && r.configs) || {});
  return settingsPromise;
}

/** A number from the settings, or `fallback`. */
export function num(configs, key, fallback) {
  const value = Number(configs[key]);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Waits `seconds` (the retry delays of the status and slot polling). */
export function wait(seconds) {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/** UTF-8 text → base64url without padding. */
export function toBase64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url (or base64) → UTF-8 text; null when not decodable. */
export function fromBase64url(text) {
  try {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
}

/** The authorize query carried in the fragment (`#<base64url(query)>`), or null. */
export function authorizeQuery() {
  const fragment = location.hash.replace(/^#/, "");
  if (!fragment) return null;
  const text = fromBase64url(fragment);
  if (!text) return null;
  const params = new URLSearchParams(text.replace(/^\?/, ""));
  return params.has("client_id") || params.has("state") ? params : null;
}

/** A fresh random nonce (URL-safe). */
export function freshNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Where "log in" goes after registration or a password reset: `signin.redirect-url` (the
 * provider's /authorize) with the original authorize query, `ui_locales` set to the page
 * language and a fresh nonce; the provider's /authorize alone when the fragment carried none.
 */
export function signInUrl(configs) {
  // Came from the login page in this tab (same origin): back to that very login, whose
  // transaction and nonce the relying party still expects (eSignet 1.8's return). Otherwise a
  // new authorize request, which needs a fresh nonce (the old one is spent).
  const login = sessionStorage.getItem("loginUrl");
  if (login && login.startsWith("/login?")) return login;
  const base = String(configs["signin.redirect-url"] || "/authorize");
  const params = authorizeQuery();
  if (!params) return base;
  params.set("ui_locales", config.lang);
  params.set("nonce", freshNonce());
  return base + (base.includes("?") ? "&" : "?") + params.toString();
}

/** Keeps the incoming fragment on in-page links marked `data-keep-fragment`. */
export function keepFragment() {
  if (!location.hash) return;
  for (const link of document.querySelectorAll("a[data-keep-fragment]")) {
    link.setAttribute("href", link.getAttribute("href").split("#")[0] + location.hash);
  }
}

/**
 * Follows the language of the authorize request in the fragment when the URL has no
 * `ui_locales` of its own (signup-ui's order: fragment, stored choice, default).
 */
function followFragmentLanguage() {
  if (query.has("ui_locales")) return;
  const params = authorizeQuery();
  const wanted = params && params.get("ui_locales");
  if (!wanted || document.cookie.includes("i18nextLng=")) return;
  const code = wanted.split(/\s+/)[0].slice(0, 2).toLowerCase();
  const link = document.querySelector(`a[data-lang-link="${CSS.escape(code)}"]`);
  if (link && code !== config.lang) location.replace(link.getAttribute("href") + location.hash);
}

function enhanceLanguageSwitcher() {
  const switcher = $("language-switcher");
  if (!switcher) return;
  for (const link of switcher.querySelectorAll("a[data-lang-link]")) {
    link.addEventListener("click", (event) => {
      document.cookie = "i18nextLng=" + link.dataset.langLink + "; Path=/; Max-Age=31536000; SameSite=Lax";
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
followFragmentLanguage();
keepFragment();
