// /login: the sign-in options of the transaction in the URL fragment (oidc-ui's shape), one
// form per option, and the authenticate call that ends at /claim-details. Biometrics and
// wallet login load their modules only when chosen; the captcha module (and its solver) only
// when `captcha.enable` lists an action.

import {
  $, ApiError, call, clone, config, errorMessage, failInPlace, h, leaveForStatusPage, localized, nextPage,
  base64ToUtf8, query, readSession, redirectWithError, setBusy, setLoading, showClient, showError, t,
  utf8ToBase64, withAuthorizeQuery,
} from "./common.js";
import { kbiForm, otpForm, passwordForm, pinForm } from "./forms.js";

const OPTION_KEYS = {
  OTP: "js.login.option_otp",
  PIN: "js.login.option_pin",
  PWD: "js.login.option_pwd",
  BIO: "js.login.option_bio",
  KBI: "js.login.option_kbi",
  WLA: "js.login.option_wla",
};
const TITLE_KEYS = {
  login: "js.login.title_login",
  verify: "js.login.title_verify",
  link: "js.login.title_link",
  none: "js.login.title_none",
};
// The captcha action guarding each option's request (`captcha.enable` values). OTP itself is
// not guarded: its send-otp request is.
const CAPTCHA_ACTIONS = { OTP: "send-otp", PIN: "pin", PWD: "pwd", KBI: "kbi", BIO: "bio" };
const SUBTITLE_KEYS = {
  login: "js.login.subtitle_login",
  verify: "js.login.subtitle_verify",
  link: "js.login.subtitle_link",
  none: "js.login.subtitle_none",
};

/** Only http(s) or same-origin links from configuration become hrefs. */
export function safeUrl(url) {
  return typeof url === "string" && (/^https?:\/\//i.test(url) || /^\/(?!\/)/.test(url)) ? url : null;
}

/** The wallets of `wallet.config`, or one default wallet when none is configured. */
function wallets(configs) {
  const list = Array.isArray(configs["wallet.config"]) ? configs["wallet.config"] : [];
  return list.length ? list : [{}];
}

/** One option per factor set (its first factor, as oidc-ui), WLA expanded per wallet. */
function signInOptions(session) {
  const options = [];
  const seen = new Set();
  for (const set of session.details.authFactors || []) {
    const factor = Array.isArray(set) ? set[0] : null;
    if (!factor || !OPTION_KEYS[factor.type] || seen.has(factor.type)) continue;
    seen.add(factor.type);
    if (factor.type === "WLA") {
      wallets(session.configs).forEach((wallet, index) => options.push({ type: "WLA", factor, wallet, index }));
    } else {
      options.push({ type: factor.type, factor, index: 0 });
    }
  }
  return options;
}

function optionLabel(option) {
  const wallet = option.wallet ? option.wallet["wallet.name"] : null;
  return t(OPTION_KEYS[option.type], { wallet: wallet || t("js.login.wallet_default_name") });
}

function renderHeading(session, client) {
  const additional = session.configs.clientAdditionalConfig || {};
  const purpose = additional.purpose && typeof additional.purpose === "object" ? additional.purpose : {};
  const type = TITLE_KEYS[purpose.type] ? purpose.type : "login";
  const title = (purpose.title && localized(purpose.title)) || t(TITLE_KEYS[type], { client });
  const subtitle = (purpose.subTitle && localized(purpose.subTitle)) || t(SUBTITLE_KEYS[type], { client });
  $("page-heading").textContent = title;
  $("page-subheading").textContent = subtitle;
  document.title = title + " · " + $("site-title").textContent;
}

function renderSignupBanner(configs) {
  const signup = configs["signup.config"] || {};
  const client = configs.clientAdditionalConfig || {};
  const url = safeUrl(signup["signup.url"]);
  if (signup["signup.banner"] === true && client.signup_banner_required !== false && url) {
    $("signup-link").href = withAuthorizeQuery(url);
    $("signup-banner").hidden = false;
  }
}

/**
 * The captcha settings: the actions needing one (`captcha.enable`, lower case) and the kind.
 * eSignet's own servers send no `captcha.kind`: their captcha is a remote widget (reCAPTCHA).
 */
function captchaSettings(configs) {
  const actions = String(configs["captcha.enable"] || "").split(",").map((a) => a.trim().toLowerCase()).filter(Boolean);
  const kind = String(configs["captcha.kind"] || (actions.length ? "remote" : "none")).toLowerCase();
  return { actions, kind };
}

/** Counts a call of `api` for this transaction (kept across reloads such as a language change). */
function countCall(session, api) {
  const key = "attempts:" + session.details.transactionId + ":" + api;
  const count = Number(sessionStorage.getItem(key) || 0) + 1;
  sessionStorage.setItem(key, String(count));
  return count;
}

/** The state shared by the option forms. */
function createFlow(session) {
  const flow = {
    session,
    options: signInOptions(session),
    cleanup: null,
    captcha: captchaSettings(session.configs),
    guards: new Map(),

    /** The captcha guard of `action`, loading captcha.js (and the solver) the first time. */
    async guard(action) {
      if (!flow.guards.has(action)) {
        const { createCaptcha } = await import("./captcha.js");
        if (!flow.guards.has(action)) flow.guards.set(action, createCaptcha(session.configs, action));
      }
      return flow.guards.get(action);
    },

    /** Starts the captcha of `action` as its form is shown, with the progress in `container`. */
    prepareCaptcha(action, container) {
      if (!flow.captcha.actions.includes(action)) return;
      if (flow.captcha.kind !== "pow") {
        showError(t("js.login.captcha_unsupported"));
        return;
      }
      // A failed import is reported when the form is sent.
      flow.guard(action).then((guard) => {
        if (container.isConnected) guard.prepare(container);
      }, () => {});
    },

    /** A captcha token for `action`: undefined when none is needed, null after showing why none could be had. */
    async captchaToken(action) {
      if (!action || !flow.captcha.actions.includes(action)) return undefined;
      if (flow.captcha.kind !== "pow") {
        showError(t("js.login.captcha_unsupported"));
        return null;
      }
      try {
        return await (await flow.guard(action)).take();
      } catch {
        showError(errorMessage("failed_to_validate_captcha"));
        return null;
      }
    },

    /** After an error answer: the token sent is spent (tokens are single use), solve another. */
    renewCaptcha(action, token) {
      if (token && flow.guards.has(action)) flow.guards.get(action).renew();
    },

    /** Handles a failed call: status pages, a return to the relying party, or a message. */
    fail(error, api, count) {
      const failure = error instanceof ApiError ? error : new ApiError("unknown_error", 0);
      if (failure.fatal) return leaveForStatusPage(failure);
      if (failure.code === "invalid_transaction") return redirectWithError(session, "invalid_transaction");
      let message = errorMessage(failure.code);
      const limit = api === "authenticate" ? config.authenticateAttempts : api === "send-otp" ? config.sendOtpAttempts : 0;
      const final = ["no_attempts_left", "individual_id_blocked"].includes(failure.code);
      if (limit && count && !final && limit - count > 0) {
        message += " " + t("js.login.attempts_left", { count: limit - count });
      }
      showError(message);
    },

    /** send-otp; resolves to the response, or null after reporting the failure. */
    async sendOtp(individualId, channels) {
      showError("");
      const captchaToken = await flow.captchaToken("send-otp");
      if (captchaToken === null) return null;
      const count = countCall(session, "send-otp");
      const request = { transactionId: session.details.transactionId, individualId, otpChannels: channels };
      if (captchaToken) request.captchaToken = captchaToken;
      try {
        return await call("POST", "/authorization/send-otp", request, session);
      } catch (error) {
        flow.renewCaptcha("send-otp", captchaToken);
        flow.fail(error, "send-otp", count);
        return null;
      }
    },

    /** v3/authenticate, then /claim-details; false after reporting a failure. */
    async authenticate(individualId, challengeList, form) {
      showError("");
      setBusy(form, true);
      // The token is for the first challenge whose factor needs one.
      const action = challengeList.map((c) => String(c.authFactorType).toLowerCase())
        .find((type) => flow.captcha.actions.includes(type));
      const captchaToken = await flow.captchaToken(action);
      if (captchaToken === null) {
        setBusy(form, false);
        return false;
      }
      const count = countCall(session, "authenticate");
      const request = { transactionId: session.details.transactionId, individualId, challengeList };
      if (captchaToken) request.captchaToken = captchaToken;
      let result;
      try {
        result = await call("POST", "/authorization/v3/authenticate", request, session);
      } catch (error) {
        setBusy(form, false);
        flow.renewCaptcha(action, captchaToken);
        flow.fail(error, "authenticate", count);
        return false;
      }
      const params = new URLSearchParams();
      for (const name of ["nonce", "state"]) if (query.get(name)) params.set(name, query.get(name));
      params.set("consentAction", result.consentAction || "CAPTURE");
      params.set("authenticationTime", String(Math.floor(Date.now() / 1000)));
      params.set("ui_locales", config.lang);
      flow.stop();
      location.replace(nextPage("/claim-details", params));
      return true;
    },

    stop() {
      if (flow.cleanup) flow.cleanup();
      flow.cleanup = null;
      for (const guard of flow.guards.values()) guard.stop();
    },
  };
  return flow;
}

function showOptions(flow) {
  flow.stop();
  showError("");
  const container = $("login-body");
  container.replaceChildren(clone("tpl-options"));
  const list = $("sign-in-options");
  for (const option of flow.options) {
    const item = clone("tpl-option");
    const button = item.querySelector("button");
    const suffix = option.type === "WLA" ? "wla-" + option.index : option.type.toLowerCase();
    button.id = "option-" + suffix;
    button.dataset.testid = "option-" + suffix;
    item.querySelector(".option-label").textContent = optionLabel(option);
    button.addEventListener("click", () => openOption(flow, option));
    list.append(item);
  }
}

async function openOption(flow, option) {
  flow.stop();
  showError("");
  const container = $("login-body");
  container.replaceChildren();
  if (flow.options.length > 1) {
    container.append(clone("tpl-back"));
    $("back-to-options").addEventListener("click", () => {
      showOptions(flow);
      const first = document.querySelector("#sign-in-options button");
      if (first) first.focus();
    });
  }
  container.append(h("h2", { class: "h2", id: "form-heading", tabindex: "-1", text: optionLabel(option) }));
  let cleanup = null;
  try {
    if (option.type === "OTP") cleanup = otpForm(flow, container);
    else if (option.type === "PIN") cleanup = pinForm(flow, container);
    else if (option.type === "PWD") cleanup = passwordForm(flow, container);
    else if (option.type === "KBI") cleanup = kbiForm(flow, container);
    else if (option.type === "BIO") cleanup = (await import("./bio.js")).bioForm(flow, container, option.factor);
    else if (option.type === "WLA") cleanup = (await import("./wallet.js")).walletPanel(flow, container, option.wallet);
  } catch {
    leaveForStatusPage(new ApiError("network_error", 0));
    return;
  }
  flow.cleanup = cleanup;
  if (CAPTCHA_ACTIONS[option.type]) flow.prepareCaptcha(CAPTCHA_ACTIONS[option.type], container);
  const first = container.querySelector("input:not([type=hidden]):not([hidden]), select:not([hidden])");
  // Single-option pages keep focus where it is on load; after a choice, focus follows it.
  if (flow.options.length > 1) (first || $("form-heading")).focus();
}

/**
 * The signup service's login as its own client (eSignet's `IDT` factor): when the transaction
 * offers a factor set of `IDT` alone and the authorize request carried an `id_token_hint`, the
 * page authenticates with it at once: the individual is the token's `sub`, the challenge
 * `base64({token, code})`. True when it took over the page (signed in, or the refusal shown).
 */
async function idTokenLogin(session, flow) {
  const sets = Array.isArray(session.details.authFactors) ? session.details.authFactors : [];
  const idtOnly = sets.some((set) => Array.isArray(set) && set.length === 1 && set[0] && set[0].type === "IDT");
  const token = sessionStorage.getItem("idTokenHint");
  if (!idtOnly || !token) return false;
  sessionStorage.removeItem("idTokenHint");
  let subject;
  try {
    subject = JSON.parse(base64ToUtf8(token.split(".")[1] || "")).sub;
  } catch {
    subject = null;
  }
  if (typeof subject !== "string" || !subject) return false;
  const challenge = utf8ToBase64(JSON.stringify({ token, code: session.details.transactionId }));
  const ok = await flow.authenticate(subject, [{ authFactorType: "IDT", challenge, format: "base64url-encoded-json" }], $("login-body"));
  // A refusal stays on screen (flow.authenticate reported it); there is nothing else to offer.
  if (!ok) setLoading(false);
  return true;
}

async function main() {
  const session = await readSession();
  if (!session) {
    failInPlace(errorMessage("parsing_error_msg"));
    return;
  }
  const client = showClient(session);
  renderHeading(session, client);
  renderSignupBanner(session.configs);
  const flow = createFlow(session);
  if (await idTokenLogin(session, flow)) return;
  setLoading(false);
  if (!flow.options.length) {
    failInPlace(t("js.login.no_options"));
    return;
  }
  if (flow.options.length === 1) openOption(flow, flow.options[0]);
  else showOptions(flow);
}

main();
