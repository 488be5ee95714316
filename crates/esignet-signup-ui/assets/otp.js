// The OTP step shared by registration and password reset: generate-challenge, the resend
// timer (`resend.delay`) and resend limit (`resend.attempts`) from the settings, and
// verify-challenge with the challenge list the flow builds.

import { $, ApiError, announce, config, call, errorMessage, fieldError, leaveOnHttpError, num, setBusy, showStep, t, wait } from "./signup.js";

/** Loads the captcha widget of the login pages (esignet-ui's `captcha.js`), when required. */
export async function captchaGuard(configs, container) {
  const required = String(configs["send-challenge.captcha.required"]) === "true";
  const module = document.body.dataset.captchaModule;
  if (!required || !module) return null;
  const { createCaptcha } = await import(module);
  // The widget asks `captcha.pow.challenge-url` or its own API for challenges; the signup
  // settings may name the endpoint, else it is the provider's.
  const widgetConfigs = {
    "captcha.pow.challenge-url": configs["captcha.pow.challenge-url"] || config.esignetApi + "/captcha/challenge",
  };
  const guard = createCaptcha(widgetConfigs, String(configs["captcha.action"] || "send-otp"));
  guard.prepare(container);
  return guard;
}

/** A captcha token for one request ("" when captcha is off). */
export async function captchaToken(guard) {
  return guard ? guard.take() : "";
}

/**
 * Sends the first challenge. Resolves true when sent; on an error shows it in `alert` and
 * resolves false.
 */
export async function sendChallenge({ identifier, purpose, guard, alert, regenerate }) {
  try {
    const captcha = await captchaToken(guard);
    await call("POST", "/registration/generate-challenge", {
      identifier,
      captchaToken: captcha,
      locale: document.body.dataset.lang3 || "eng",
      regenerateChallenge: Boolean(regenerate),
      purpose,
    });
    return true;
  } catch (error) {
    if (leaveOnHttpError(error)) return false;
    if (guard) guard.renew();
    alert.textContent = error.code ? errorMessage(error.code) : t("js.common.network_error");
    return false;
  }
}

/**
 * Runs the OTP step: shows it, counts down the resend delay, resends on request, verifies.
 * `challengeInfo(otp)` builds the verify request's list; resolves when verified.
 */
export function otpStep({ configs, identifier, shownIdentifier, purpose, guard, challengeInfo }) {
  const form = $("otp-form");
  const input = $("otp");
  const error = $("otp-error");
  const alert = $("otp-alert");
  const resend = $("resend-otp");
  const timer = $("resend-timer");
  const attemptsText = $("otp-attempts");
  const length = num(configs, "otp.length", 6);
  const delay = num(configs, "resend.delay", num(configs, "challenge.timeout", 60));
  const maxSends = num(configs, "resend.attempts", 3);
  let sends = 1;
  let countdown = null;

  input.maxLength = length;
  input.pattern = `\\d{${length}}`;
  $("otp-sent-to").textContent = t("js.otp.sent_to", { identifier: shownIdentifier });
  showStep("step-otp");

  const showAttempts = () => {
    const left = Math.max(0, maxSends - sends);
    attemptsText.textContent = t("js.otp.resends_left", { count: left });
    return left;
  };
  const startTimer = () => {
    clearInterval(countdown);
    const until = Date.now() + delay * 1000;
    resend.setAttribute("aria-disabled", "true");
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        timer.textContent = t("js.otp.resend_in", { seconds: left });
        return;
      }
      clearInterval(countdown);
      timer.textContent = "";
      if (showAttempts() > 0) {
        resend.setAttribute("aria-disabled", "false");
        announce(t("js.otp.resend_ready"));
      }
    };
    tick();
    countdown = setInterval(tick, 1000);
  };
  showAttempts();
  startTimer();

  resend.addEventListener("click", async () => {
    if (resend.getAttribute("aria-disabled") === "true") return;
    resend.setAttribute("aria-disabled", "true");
    alert.textContent = "";
    const sent = await sendChallenge({ identifier, purpose, guard, alert, regenerate: true });
    if (sent) {
      sends += 1;
      input.value = "";
      announce(t("js.otp.resent"));
      input.focus();
    }
    startTimer();
  });

  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      alert.textContent = "";
      const otp = input.value.trim();
      if (!new RegExp(`^\\d{${length}}$`).test(otp)) {
        fieldError(input, error, t("js.otp.invalid", { length }));
        input.focus();
        return;
      }
      fieldError(input, error, "");
      setBusy(form, true);
      try {
        await call("POST", "/registration/verify-challenge", { identifier, challengeInfo: challengeInfo(otp) });
        clearInterval(countdown);
        resolve();
      } catch (failure) {
        if (leaveOnHttpError(failure)) return;
        alert.textContent = errorMessage(failure.code);
        input.value = "";
        input.focus();
      } finally {
        setBusy(form, false);
      }
    });
  });
}

/** Checks the national number the resident typed; returns the message of the first rule broken. */
export function phoneProblem(configs, value) {
  const min = num(configs, "identifier.length.min", 0);
  const max = num(configs, "identifier.length.max", 0);
  const allowed = String(configs["identifier.allowed.characters"] || "^[0-9]+");
  const matches = (pattern, text) => {
    try {
      return new RegExp(pattern).test(text);
    } catch {
      return true;
    }
  };
  if (!value) return t("js.register.phone_required");
  if (value.startsWith("0")) return t("js.register.phone_leading_zero");
  if (!matches(allowed, value) || /[^0-9]/.test(value)) return t("js.register.phone_characters");
  if ((min && value.length < min) || (max && value.length > max)) return t("js.register.phone_length", { min, max });
  const pattern = configs["identifier.pattern"];
  if (pattern && !matches(pattern, String(configs["identifier.prefix"] || "") + value)) return t("js.register.phone_invalid");
  return "";
}

/** Polls `GET /registration/status` (`status.request.delay` × `status.request.limit`). */
export async function pollStatus(configs) {
  const delay = num(configs, "status.request.delay", 20);
  const limit = Math.max(1, num(configs, "status.request.limit", 10));
  const retryCodes = String(configs["status.request.retry.error.codes"] || "unknown_error").split(",").map((c) => c.trim());
  for (let attempt = 0; attempt < limit; attempt++) {
    try {
      const response = await call("GET", "/registration/status");
      if (response && (response.status === "COMPLETED" || response.status === "FAILED")) return { status: response.status };
    } catch (error) {
      if (leaveOnHttpError(error)) return { status: "LEFT" };
      if (!(error instanceof ApiError) || !retryCodes.includes(error.code)) return { status: "FAILED", code: error.code };
    }
    if (attempt + 1 < limit) await wait(delay);
  }
  return { status: "FAILED", code: "status_timeout" };
}

