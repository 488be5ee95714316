// /claim-details: asks which claims are verified. Usually it passes straight on: to /consent
// (CAPTURE), or to the relying party with a code (NOCAPTURE, consent already on record). When an
// essential claim needs a profile update it shows the claims and lets the resident cancel, or,
// when the deployment has an identity-verification (eKYC) service, leave for it: the login is
// halted and resumed at /consent?key=... on the way back (see consent.js).

import {
  $, ApiError, call, config, errorMessage, failInPlace, h, leaveForStatusPage, query, readSession,
  redirectWithCode, redirectWithError, setLoading, t, tOr, withQuery,
} from "./common.js";

/** localStorage keys of the halted logins' page addresses (eSignet's `urlInfo<epoch ms>`). */
const URL_INFO = "urlInfo";

/** claim-details may be called once per transaction: keep the answer for reloads. */
async function claimDetails(session) {
  const key = "claimDetails:" + session.details.transactionId;
  const cached = sessionStorage.getItem(key);
  if (cached) return JSON.parse(cached);
  const result = await call("GET", "/authorization/claim-details", null, session);
  sessionStorage.setItem(key, JSON.stringify(result));
  return result;
}

/** The resident-facing name of a claim. */
function claimLabel(claim) {
  return tOr("claims." + claim, claim);
}

function fail(session, error) {
  if (error instanceof ApiError && error.fatal) return leaveForStatusPage(error);
  redirectWithError(session, error instanceof ApiError ? error.code : "unknown_error");
}

function showProfileTable(session, result) {
  const essential = new Set(session.details.essentialClaims || []);
  const rows = $("claims-rows");
  const statuses = [...(result.claimStatus || [])].sort((a, b) => Number(b.available) - Number(a.available));
  for (const status of statuses) {
    const state = !status.available
      ? t("js.claims.not_available")
      : status.verified ? t("js.claims.verified") : t("js.claims.not_verified");
    rows.append(h("tr", { "data-testid": "claim-row-" + status.claim },
      h("th", { scope: "row", text: claimLabel(status.claim) }),
      h("td", { text: essential.has(status.claim) ? t("js.claims.required") : t("js.claims.optional") }),
      h("td", { class: status.verified ? "ok" : "warn", text: state })));
  }
  $("profile-update").hidden = false;
  const ekycUrl = session.configs["eKYC-steps.config"];
  if (typeof ekycUrl === "string" && ekycUrl) {
    const verify = $("claims-verify");
    verify.hidden = false;
    $("verify-hint").hidden = false;
    verify.addEventListener("click", () => startIdentityVerification(session, ekycUrl, verify));
  }
  const dialog = $("cancel-dialog");
  $("claims-cancel").addEventListener("click", () => dialog.showModal());
  $("cancel-stay").addEventListener("click", () => dialog.close());
  $("cancel-discontinue").addEventListener("click", () => redirectWithError(session, "consent_details_rejected"));
  $("page-heading").focus();
}

/**
 * Halts the login (prepare-signup-redirect) and leaves for the identity-verification page with
 * the ID token it hands out. This page's address is kept under a fresh `urlInfo` key, the one
 * the server puts in its cookie and the verification service sends back as `key`.
 */
async function startIdentityVerification(session, ekycUrl, button) {
  if (button.disabled) return;
  button.disabled = true;
  for (const stored of Object.keys(localStorage)) {
    if (stored.startsWith(URL_INFO)) localStorage.removeItem(stored);
  }
  const key = URL_INFO + Date.now();
  localStorage.setItem(key, location.search.slice(1) + "#" + location.hash.slice(1));
  let result;
  try {
    result = await call("POST", "/authorization/prepare-signup-redirect", {
      transactionId: session.details.transactionId, pathFragment: key,
    }, session);
  } catch (error) {
    localStorage.removeItem(key);
    return fail(session, error);
  }
  const params = new URLSearchParams();
  const state = query.get("state");
  if (state) params.set("state", state);
  params.set("id_token_hint", result.idToken);
  params.set("ui_locales", config.lang);
  location.assign(withQuery(ekycUrl, params));
}

async function main() {
  const session = await readSession();
  if (!session) return failInPlace(errorMessage("parsing_error_msg"));
  let result;
  try {
    result = await claimDetails(session);
  } catch (error) {
    return fail(session, error);
  }
  if (result.profileUpdateRequired) {
    setLoading(false);
    return showProfileTable(session, result);
  }
  const action = result.consentAction || query.get("consentAction");
  if (action === "NOCAPTURE") {
    try {
      const code = await call("POST", "/authorization/auth-code", {
        transactionId: session.details.transactionId, acceptedClaims: [], permittedAuthorizeScopes: [],
      }, session);
      return redirectWithCode(session, code);
    } catch (error) {
      return fail(session, error);
    }
  }
  const params = new URLSearchParams(location.search);
  params.set("ui_locales", config.lang);
  location.replace("/consent?" + params.toString() + location.hash);
}

main();
