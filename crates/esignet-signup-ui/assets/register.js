// /signup/register: phone number and captcha → OTP → phone verified → account setup (the
// profile registry's ui-spec) → registration status polling → "log in" back to /authorize.

import { $, call, errorMessage, fieldError, leaveOnHttpError, setBusy, settings, showStep, signInUrl, t } from "./signup.js";
import { captchaGuard, otpStep, phoneProblem, pollStatus, sendChallenge } from "./otp.js";
import { renderForm } from "./form.js";

/** The release 1.2.x account form (full name, password, consent) as a spec, when no ui-spec is served. */
function fixedSpec(configs) {
  const name = { id: "fullName", controlType: "textbox", type: "simpleType", required: true, labelName: { [document.body.dataset.lang3]: t("js.register.fullname") }, validators: [] };
  if (configs["fullname.pattern"]) name.validators.push({ regex: String(configs["fullname.pattern"]), error: { [document.body.dataset.lang3]: t("js.register.fullname_invalid") } });
  const password = { id: "password", controlType: "password", required: true, labelName: { [document.body.dataset.lang3]: t("js.form.password") }, validators: [] };
  if (configs["password.pattern"]) password.validators.push({ regex: String(configs["password.pattern"]), error: { [document.body.dataset.lang3]: t("js.form.password_rules", { min: configs["password.length.min"] ?? 8, max: configs["password.length.max"] ?? 20 }) } });
  const consent = { id: "consent", controlType: "checkbox", required: true, labelName: { [document.body.dataset.lang3]: t("js.register.consent") } };
  return { schema: [name, password, consent] };
}

async function main() {
  let configs;
  try {
    configs = await settings();
  } catch (error) {
    if (!leaveOnHttpError(error)) $("phone-alert").textContent = errorMessage(error.code);
    return;
  }
  const prefix = String(configs["identifier.prefix"] || "");
  $("phone-prefix").textContent = prefix;
  $("phone-prefix").hidden = !prefix;
  const form = $("phone-form");
  const phone = $("phone");
  const guard = await captchaGuard(configs, $("captcha-box")).catch(() => null);
  document.documentElement.dataset.ready = "phone";

  const identifier = await new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      $("phone-alert").textContent = "";
      const value = phone.value.trim();
      const problem = phoneProblem(configs, value);
      fieldError(phone, $("phone-error"), problem);
      if (problem) {
        phone.focus();
        return;
      }
      setBusy(form, true);
      const sent = await sendChallenge({ identifier: prefix + value, purpose: "REGISTRATION", guard, alert: $("phone-alert") });
      setBusy(form, false);
      if (sent) resolve(prefix + value);
    });
  });

  await otpStep({
    configs, identifier, shownIdentifier: identifier, purpose: "REGISTRATION", guard,
    challengeInfo: (otp) => [{ challenge: otp, format: "alpha-numeric", type: "OTP" }],
  });
  if (guard) guard.stop();
  showStep("step-phone-status");
  await new Promise((resolve) => $("continue-setup").addEventListener("click", resolve, { once: true }));

  let spec;
  try {
    spec = await call("GET", "/registration/ui-spec");
  } catch (error) {
    if (leaveOnHttpError(error)) return;
    spec = null;
  }
  if (!spec || !Array.isArray(spec.schema) || !spec.schema.length) spec = fixedSpec(configs);
  const identifierField = String(configs["identifier.name"] || "phone");
  const setupForm = $("setup-form");
  const rendered = renderForm($("setup-fields"), spec, { [identifierField]: identifier });
  showStep("step-setup");

  setupForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("setup-alert").textContent = "";
    const values = rendered.read();
    if (!values) return;
    const { password, consent, ...rest } = values;
    const userInfo = { ...rest };
    // The registry checks that the identity's identifier field is the verified number.
    userInfo[identifierField] = identifier;
    // The consent travels as the request's own `consent`, not as an identity field.
    if (!userInfo.preferredLang) userInfo.preferredLang = document.body.dataset.lang3;
    setBusy(setupForm, true);
    try {
      await call("POST", "/registration/register", {
        username: identifier, password, consent: consent === "AGREE" || consent === true ? "AGREE" : "DISAGREE",
        userInfo, locale: document.body.dataset.lang3,
      });
    } catch (error) {
      setBusy(setupForm, false);
      if (!leaveOnHttpError(error)) $("setup-alert").textContent = errorMessage(error.code);
      return;
    }
    showStep("step-status");
    const result = await pollStatus(configs);
    if (result.status === "LEFT") return;
    if (result.status === "COMPLETED") {
      $("login").setAttribute("href", signInUrl(configs));
      showStep("step-done");
    } else {
      $("failed-message").textContent = errorMessage(result.code || "registration_failed");
      showStep("step-failed");
    }
  });
}

main();
