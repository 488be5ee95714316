// /signup/reset-password: username + full name (the KBI challenge) + captcha → OTP → new
// password and confirmation → status polling → confirmation with "log in".

import { $, call, errorMessage, fieldError, leaveOnHttpError, setBusy, settings, showStep, signInUrl, t, toBase64url } from "./signup.js";
import { captchaGuard, otpStep, phoneProblem, pollStatus, sendChallenge } from "./otp.js";
import { renderForm } from "./form.js";

function fullNameProblem(configs, value) {
  if (!value) return t("js.reset.fullname_required");
  const min = Number(configs["fullname.length.min"]) || 0;
  const max = Number(configs["fullname.length.max"]) || 0;
  if ((min && value.length < min) || (max && value.length > max)) return t("js.reset.fullname_length", { min, max });
  try {
    const allowed = configs["fullname.allowed.characters"];
    if (allowed && !new RegExp(allowed).test(value)) return t("js.register.fullname_invalid");
  } catch {
    // an unusable pattern does not block
  }
  return "";
}

async function main() {
  let configs;
  try {
    configs = await settings();
  } catch (error) {
    if (!leaveOnHttpError(error)) $("user-alert").textContent = errorMessage(error.code);
    return;
  }
  const prefix = String(configs["identifier.prefix"] || "");
  $("phone-prefix").textContent = prefix;
  $("phone-prefix").hidden = !prefix;
  const form = $("user-form");
  const username = $("username");
  const fullname = $("fullname");
  const guard = await captchaGuard(configs, $("captcha-box")).catch(() => null);
  document.documentElement.dataset.ready = "user";

  const { identifier, name } = await new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      $("user-alert").textContent = "";
      const value = username.value.trim();
      const nameValue = fullname.value.trim();
      const phoneError = phoneProblem(configs, value);
      const nameError = fullNameProblem(configs, nameValue);
      fieldError(username, $("username-error"), phoneError);
      fieldError(fullname, $("fullname-error"), nameError);
      if (phoneError || nameError) {
        (phoneError ? username : fullname).focus();
        return;
      }
      setBusy(form, true);
      const sent = await sendChallenge({ identifier: prefix + value, purpose: "RESET_PASSWORD", guard, alert: $("user-alert") });
      setBusy(form, false);
      if (sent) resolve({ identifier: prefix + value, name: nameValue });
    });
  });

  // The KBI challenge: the full name in the resident's language, as signup-ui sends it.
  const kbi = toBase64url(JSON.stringify({ fullName: [{ language: document.body.dataset.lang3, value: name }] }));
  await otpStep({
    configs, identifier, shownIdentifier: identifier, purpose: "RESET_PASSWORD", guard,
    challengeInfo: (otp) => [
      { challenge: otp, format: "alpha-numeric", type: "OTP" },
      { challenge: kbi, format: "base64url-encoded-json", type: "KBI" },
    ],
  });
  if (guard) guard.stop();

  const lang3 = document.body.dataset.lang3;
  const rules = { [lang3]: t("js.form.password_rules", { min: configs["password.length.min"] ?? 8, max: configs["password.length.max"] ?? 20 }) };
  const spec = { schema: [{ id: "password", controlType: "password", required: true, labelName: { [lang3]: t("js.reset.new_password") }, info: rules, validators: configs["password.pattern"] ? [{ regex: String(configs["password.pattern"]), error: rules }] : [] }] };
  const rendered = renderForm($("password-fields"), spec);
  const passwordForm = $("password-form");
  showStep("step-password");

  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("password-alert").textContent = "";
    const values = rendered.read();
    if (!values) return;
    setBusy(passwordForm, true);
    try {
      await call("POST", "/reset-password", { identifier, password: values.password, locale: lang3 });
    } catch (error) {
      setBusy(passwordForm, false);
      if (!leaveOnHttpError(error)) $("password-alert").textContent = errorMessage(error.code);
      return;
    }
    showStep("step-status");
    const result = await pollStatus(configs);
    if (result.status === "LEFT") return;
    if (result.status === "COMPLETED") {
      $("login").setAttribute("href", signInUrl(configs));
      showStep("step-done");
    } else {
      $("failed-message").textContent = errorMessage(result.code || "reset_pwd_failed");
      showStep("step-failed");
    }
  });
}

main();
