// The proof-of-work captcha of /login, loaded only when `captcha.enable` lists an action and
// `captcha.kind` is "pow". One guard per action (send-otp, pwd, pin, kbi, bio): it fetches a
// challenge and solves it with esignet-captcha's solver (a module worker, or the page's own
// thread where module workers are missing) as soon as the form is shown, so the token is
// usually ready before the resident is. Progress is shown in a polite live region. Tokens are
// single use: the flow takes one per request and asks for a fresh one after any error answer.

import { $, config, h, t } from "./common.js";
import { solveChallenge } from "./captcha-pow.js";

// A token this close to its challenge's expiry is not sent: a fresh one is solved instead.
const EXPIRY_MARGIN_MS = 15000;

/** The challenge endpoint: `captcha.pow.challenge-url` when it is on this origin, else the API's. */
function challengeUrl(configs) {
  const fallback = new URL(config.api + "/captcha/challenge", location.href);
  try {
    const configured = new URL(String(configs["captcha.pow.challenge-url"] || ""), location.href);
    // The CSP allows API calls to this origin only.
    return configured.origin === location.origin ? configured : fallback;
  } catch {
    return fallback;
  }
}

/** The live region showing the captcha's progress, created once and moved into `container`. */
function statusRegion(container) {
  let region = $("captcha-status");
  if (!region) {
    region = h("p", {
      class: "captcha-status", id: "captcha-status", role: "status", "aria-live": "polite",
      "data-testid": "captcha-status",
    });
  }
  container.append(region);
  return region;
}

/** Shows `text` in the region; `busy` adds the spinner. */
function show(region, text, busy) {
  region.replaceChildren();
  if (busy) region.append(h("span", { class: "spinner", "aria-hidden": "true" }));
  if (text) region.append(h("span", { text }));
  region.setAttribute("aria-busy", busy ? "true" : "false");
}

/** Fetches a challenge for `action`; rejects with an Error on an HTTP or API error. */
async function fetchChallenge(url, action, signal) {
  const target = new URL(url);
  target.searchParams.set("action", action);
  const response = await fetch(target, {
    credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" }, signal,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok || !body || (Array.isArray(body.errors) && body.errors.length) || !body.response) {
    throw new Error("captcha challenge refused");
  }
  return body.response;
}

/**
 * The captcha guard of one action. `prepare(container)` starts solving (and shows progress in
 * `container`), `take()` resolves to a token (waiting for the solve in progress, or starting
 * one) and forgets it, `renew()` starts a fresh solve after an error answer, `stop()` abandons
 * a solve in progress (a token already found is kept until it expires).
 */
export function createCaptcha(configs, action) {
  const url = challengeUrl(configs);
  let region = null;
  let pending = null; // {promise, controller}
  let ready = null; // {token, expiresAt}

  const solve = () => {
    const controller = new AbortController();
    if (region) show(region, t("js.login.captcha_checking"), true);
    const promise = (async () => {
      const challenge = await fetchChallenge(url, action, controller.signal);
      const expiresAt = Date.now() + (Number(challenge.expiresIn) || 300) * 1000;
      const token = await solveChallenge(challenge, { signal: controller.signal });
      return { token, expiresAt };
    })();
    const entry = { promise, controller };
    pending = entry;
    promise.then(
      (solved) => {
        if (pending !== entry) return;
        pending = null;
        ready = solved;
        if (region) show(region, t("js.login.captcha_done"), false);
      },
      () => {
        if (pending !== entry) return;
        pending = null;
        if (region && !controller.signal.aborted) show(region, "", false);
      },
    );
    return entry;
  };
  const fresh = () => ready && Date.now() < ready.expiresAt - EXPIRY_MARGIN_MS;

  return {
    action,

    /** Shows the progress in `container` and starts solving unless a token is ready. */
    prepare(container) {
      region = statusRegion(container);
      if (fresh()) show(region, t("js.login.captcha_done"), false);
      else if (pending) show(region, t("js.login.captcha_checking"), true);
      else solve();
    },

    /** A token for one request; rejects when no token could be obtained (after one retry). */
    async take() {
      for (let attempt = 0; ; attempt++) {
        if (!fresh()) {
          ready = null;
          const entry = pending || solve();
          try {
            ready = await entry.promise;
          } catch (error) {
            if (pending === entry) pending = null;
            if (attempt > 0 || entry.controller.signal.aborted) throw error;
            continue;
          }
          if (pending === entry) pending = null;
        }
        const { token } = ready;
        ready = null;
        if (region) show(region, "", false);
        return token;
      }
    },

    /** After an error answer: the token sent is spent, so solve the next one now. */
    renew() {
      ready = null;
      if (!pending) solve();
    },

    /** Stops a solve in progress (the form was left). */
    stop() {
      if (pending) pending.controller.abort();
      pending = null;
      if (region) show(region, "", false);
    },
  };
}
