// /consent: essential claims (always shared), voluntary claims and authorize scopes (opt-in),
// a countdown to the end of the authenticated window, then auth-code and the redirect back to
// the relying party with `code`, `state` and `iss` (RFC 9207).

import {
  $, ApiError, announce, call, clock, config, errorMessage, failInPlace, h, leaveForStatusPage, query, readSession,
  redirectWithCode, redirectWithError, setBusy, setLoading, showClient, showError, t, tOr,
} from "./common.js";

const ANNOUNCE_AT = [60, 30, 10];

/** What the identity-verification service reports as `error`, as the relying party sees it. */
const VERIFICATION_ERRORS = { dismiss: "consent_rejected", true: "ekyc_failed" };

/**
 * Back from identity verification at `/consent?key=<urlInfo key>[&error=..]`: the key names the
 * claim-details address kept before leaving. An error ends the login at the relying party;
 * otherwise complete-signup-redirect resumes the halted transaction and consent goes on with
 * the same oauth-details (hence the same hash) and a fresh authentication time.
 */
async function resumeAfterVerification(key) {
  const stored = key.startsWith("urlInfo") ? localStorage.getItem(key) : null;
  localStorage.removeItem(key);
  if (!stored) return failInPlace(errorMessage("invalid_transaction"));
  const at = stored.indexOf("#");
  const storedQuery = new URLSearchParams(at < 0 ? stored : stored.slice(0, at));
  const fragment = at < 0 ? "" : stored.slice(at + 1);
  const session = await readSession(fragment);
  if (!session) return failInPlace(errorMessage("parsing_error_msg"));
  const reported = query.get("error");
  if (reported) return redirectWithError(session, VERIFICATION_ERRORS[reported] || reported, storedQuery);
  try {
    await call("POST", "/authorization/complete-signup-redirect", {
      transactionId: session.details.transactionId,
    }, session);
  } catch (error) {
    if (error instanceof ApiError && error.fatal) return leaveForStatusPage(error);
    return redirectWithError(session, error instanceof ApiError ? error.code : "unknown_error", storedQuery);
  }
  // The claims' verification changed: claim-details' kept answer is stale.
  sessionStorage.removeItem("claimDetails:" + session.details.transactionId);
  storedQuery.set("authenticationTime", String(Math.floor(Date.now() / 1000)));
  storedQuery.set("ui_locales", config.lang);
  location.replace("/consent?" + storedQuery.toString() + "#" + fragment);
}

/** A checkbox row; `locked` rows are checked and disabled (essential claims). */
function item(kind, name, label, locked, verified) {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, "_");
  const input = h("input", {
    type: "checkbox", id: kind + "-" + safe, value: name, "data-testid": kind + "-" + safe,
    checked: locked, disabled: locked,
  });
  const text = h("span", { text: label });
  const badge = verified ? h("span", { class: "badge", text: t("js.consent.verified") }) : null;
  return h("li", {}, h("label", { class: "check" }, input, " ", text, badge ? " " : null, badge));
}

/** Wires a select-all checkbox to the unlocked checkboxes of `list`. */
function selectAll(toggle, list) {
  const boxes = () => [...list.querySelectorAll("input[type=checkbox]:not(:disabled)")];
  const sync = () => {
    const checked = boxes().filter((b) => b.checked).length;
    toggle.checked = checked > 0 && checked === boxes().length;
    toggle.indeterminate = checked > 0 && checked < boxes().length;
  };
  toggle.addEventListener("change", () => {
    boxes().forEach((b) => (b.checked = toggle.checked));
    sync();
  });
  list.addEventListener("change", sync);
  sync();
}

function fill(groupId, listId, kind, names, labelOf, locked, verified) {
  if (!names.length) return;
  const list = $(listId);
  for (const name of names) list.append(item(kind, name, labelOf(name), locked, verified.has(name)));
  $(groupId).hidden = false;
}

function checkedValues(listId) {
  return [...$(listId).querySelectorAll("input[type=checkbox]:checked:not(:disabled)")].map((b) => b.value);
}

/** Verified claims from the claim-details answer kept by /claim-details, if any. */
function verifiedClaims(session) {
  try {
    const cached = JSON.parse(sessionStorage.getItem("claimDetails:" + session.details.transactionId) || "null");
    return new Set((cached && cached.claimStatus || []).filter((s) => s.verified).map((s) => s.claim));
  } catch {
    return new Set();
  }
}

function startCountdown(session, remaining) {
  const timer = $("consent-timer");
  const deadline = Date.now() + remaining * 1000;
  let handle = null;
  const tick = () => {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(handle);
      return redirectWithError(session, "transaction_timeout");
    }
    timer.textContent = t("js.consent.time_left", { time: clock(left) });
    if (ANNOUNCE_AT.includes(left)) announce(t("js.consent.time_left", { time: clock(left) }));
  };
  tick();
  handle = setInterval(tick, 1000);
}

async function main() {
  const resumeKey = query.get("key");
  if (resumeKey && !location.hash) return resumeAfterVerification(resumeKey);
  const session = await readSession();
  if (!session) return failInPlace(errorMessage("parsing_error_msg"));
  const authenticated = Number(query.get("authenticationTime"));
  if (!authenticated) return redirectWithError(session, "invalid_transaction");
  const configs = session.configs;
  const timeout = Number(configs["consent.screen.timeout-in-secs"]) || 60;
  const buffer = Number(configs["consent.screen.timeout-buffer-in-secs"]) || 5;
  const remaining = timeout - buffer - (Math.floor(Date.now() / 1000) - authenticated);
  if (remaining <= 0) return redirectWithError(session, "transaction_timeout");

  const client = showClient(session);
  $("consent-intro").textContent = t("js.consent.intro", { client });
  const details = session.details;
  const verified = verifiedClaims(session);
  const claimLabel = (claim) => tOr("claims." + claim, claim);
  const scopeLabel = (scope) => tOr("scopes." + scope, scope);
  fill("scopes-group", "scopes-list", "scope", details.authorizeScopes || [], scopeLabel, false, new Set());
  fill("essential-group", "essential-list", "claim", details.essentialClaims || [], claimLabel, true, verified);
  fill("voluntary-group", "voluntary-list", "claim", details.voluntaryClaims || [], claimLabel, false, verified);
  selectAll($("select-all-scopes"), $("scopes-list"));
  selectAll($("select-all-voluntary"), $("voluntary-list"));

  const form = $("consent-form");
  const dialog = $("cancel-dialog");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    showError("");
    setBusy(form, true);
    try {
      const result = await call("POST", "/authorization/auth-code", {
        transactionId: details.transactionId,
        acceptedClaims: [...(details.essentialClaims || []), ...checkedValues("voluntary-list")],
        permittedAuthorizeScopes: checkedValues("scopes-list"),
      }, session);
      redirectWithCode(session, result);
    } catch (error) {
      if (error instanceof ApiError && error.fatal) return leaveForStatusPage(error);
      redirectWithError(session, error instanceof ApiError ? error.code : "unknown_error");
    }
  });
  $("consent-cancel").addEventListener("click", () => dialog.showModal());
  $("cancel-stay").addEventListener("click", () => dialog.close());
  $("cancel-discontinue").addEventListener("click", () => redirectWithError(session, "access_denied"));

  setLoading(false);
  form.hidden = false;
  startCountdown(session, remaining);
}

main();
