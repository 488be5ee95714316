// /authorize: turns the relying party's authorization request into an oauth-details call
// (or par-oauth-details for a pushed request) and moves on to /login with the answer in the
// URL fragment, as oidc-ui does. Errors are shown here: until the call succeeds the redirect
// URI is unverified, so nothing may be sent back to it.

import { ApiError, call, config, errorMessage, failInPlace, leaveForStatusPage, query, utf8ToBase64, $ } from "./common.js";

// Query parameter → oauth-details request field (v3); absent parameters are omitted.
const FIELDS = {
  nonce: "nonce",
  state: "state",
  client_id: "clientId",
  redirect_uri: "redirectUri",
  response_type: "responseType",
  scope: "scope",
  acr_values: "acrValues",
  claims: "claims",
  claims_locales: "claimsLocales",
  display: "display",
  max_age: "maxAge",
  prompt: "prompt",
  ui_locales: "uiLocales",
  code_challenge: "codeChallenge",
  code_challenge_method: "codeChallengeMethod",
  id_token_hint: "idTokenHint",
  dpop_jkt: "dpopJkt",
};

/** The `claims` parameter as JSON (oidc-ui also accepts it percent-encoded once more). */
function parseClaims(text) {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(decodeURIComponent(text));
  }
}

function buildRequest() {
  const request = {};
  for (const [param, field] of Object.entries(FIELDS)) {
    const value = query.get(param);
    if (value === null || value === "") continue;
    request[field] = field === "claims" ? parseClaims(value) : value;
  }
  return request;
}

async function start() {
  if ($("authorize-card").dataset.invalid === "true") return;
  const pushed = query.has("request_uri");
  let request;
  try {
    request = pushed
      ? { clientId: query.get("client_id"), requestUri: query.get("request_uri") }
      : buildRequest();
  } catch {
    failInPlace(errorMessage("parsing_error_msg"));
    return;
  }
  let details;
  try {
    details = await call("POST", pushed ? "/authorization/par-oauth-details" : "/authorization/v3/oauth-details", request);
  } catch (error) {
    if (error instanceof ApiError && error.fatal) leaveForStatusPage(error);
    else failInPlace(errorMessage(error instanceof ApiError ? error.code : "unknown_error"));
    return;
  }
  const next = new URLSearchParams();
  if (!pushed) {
    if (query.get("nonce")) next.set("nonce", query.get("nonce"));
    if (query.get("state")) next.set("state", query.get("state"));
  }
  next.set("ui_locales", query.get("ui_locales") || config.lang);
  // The signup service's return login: the login page signs in with the hint (factor IDT).
  if (query.get("id_token_hint")) sessionStorage.setItem("idTokenHint", query.get("id_token_hint"));
  else sessionStorage.removeItem("idTokenHint");
  if (pushed) sessionStorage.removeItem("authorizeQuery");
  else sessionStorage.setItem("authorizeQuery", location.search.slice(1));
  location.replace("/login?" + next.toString() + "#" + utf8ToBase64(JSON.stringify(details)));
}

start();
