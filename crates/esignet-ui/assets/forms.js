// The sign-in forms of /login that need no device: the login-ID block (login-id.options with
// prefixes and postfixes), OTP, PIN, password and knowledge-based (KBI) forms. Each form
// function fills `container` and returns a cleanup function (or null).

import { $, announce, base64url, clock, clone, config, fieldError, h, localized, setBusy, t, withAuthorizeQuery } from "./common.js";

const LOGIN_ID_KEYS = {
  vid: "js.login.id_vid",
  uin: "js.login.id_uin",
  nin: "js.login.id_nin",
  nrc: "js.login.id_nrc",
  mobile: "js.login.id_mobile",
  phone: "js.login.id_mobile",
  email: "js.login.id_email",
};

/** `login-id.options`, normalised; a single `vid` option when absent (oidc-ui's default). */
function loginIdOptions(configs) {
  const list = Array.isArray(configs["login-id.options"]) && configs["login-id.options"].length
    ? configs["login-id.options"]
    : [{ id: "vid" }];
  return list.map((o) => ({
    id: String((o && o.id) || "vid"),
    prefixes: o ? o.prefixes : "",
    postfix: o && typeof o.postfix === "string" ? o.postfix : "",
    maxLength: Number(o && o.maxLength) || 0,
    regex: o && typeof o.regex === "string" ? o.regex : "",
  }));
}

/** Whether `value` matches `pattern`; an unusable pattern from configuration does not block. */
function matches(pattern, value) {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return true;
  }
}

function idLabel(option) {
  const key = LOGIN_ID_KEYS[option.id.toLowerCase()];
  return key ? t(key) : t("js.login.id_other", { id: option.id.toUpperCase() });
}

/**
 * Fills `slot` with the login-ID input. Returns `{input, read}`: `read()` validates and gives
 * `prefix + trimmed input + postfix` (the postfix is never shown), or null after showing why.
 */
export function loginId(slot, configs) {
  slot.replaceChildren(clone("tpl-login-id"));
  const options = loginIdOptions(configs);
  const input = $("login-id");
  const error = $("login-id-error");
  const fixedPrefix = $("login-id-prefix");
  const country = $("login-id-country");
  let current = options[0];

  const selectedPrefix = () =>
    Array.isArray(current.prefixes) ? current.prefixes[Number(country.value) || 0] || {} : null;
  const rules = () => {
    const prefix = selectedPrefix() || {};
    return { maxLength: Number(prefix.maxLength) || current.maxLength, regex: prefix.regex || current.regex };
  };
  const applyLimits = () => {
    const { maxLength } = rules();
    if (maxLength) input.maxLength = maxLength;
    else input.removeAttribute("maxlength");
  };
  const apply = (option) => {
    current = option;
    $("login-id-label").textContent = idLabel(option);
    const prefixes = option.prefixes;
    country.hidden = !(Array.isArray(prefixes) && prefixes.length);
    fixedPrefix.hidden = !(typeof prefixes === "string" && prefixes);
    if (!country.hidden) {
      country.replaceChildren(...prefixes.map((p, i) =>
        h("option", { value: String(i), text: [p.label, p.value].filter(Boolean).join(" ") })));
    }
    if (!fixedPrefix.hidden) fixedPrefix.textContent = prefixes;
    input.type = option.id.toLowerCase() === "email" ? "email" : "text";
    input.inputMode = ["mobile", "phone"].includes(option.id.toLowerCase()) ? "tel" : "text";
    applyLimits();
    fieldError(input, error, "");
  };
  country.addEventListener("change", applyLimits);

  if (options.length > 1) {
    const list = $("login-id-type-list");
    options.forEach((option, index) => {
      const radio = h("input", {
        type: "radio", name: "login-id-type", value: option.id, id: "login-id-type-" + option.id,
        "data-testid": "login-id-type-" + option.id, checked: index === 0,
      });
      radio.addEventListener("change", () => apply(option));
      list.append(h("label", { class: "choice" }, radio, " ", h("span", { text: idLabel(option) })));
    });
    $("login-id-types").hidden = false;
  }
  apply(current);

  return {
    input,
    read() {
      const value = input.value.trim();
      const { maxLength, regex } = rules();
      let message = "";
      if (!value) message = t("js.login.id_required", { id: idLabel(current) });
      else if ((maxLength && value.length > maxLength) || (regex && !matches(regex, value))) {
        message = t("js.login.id_invalid", { id: idLabel(current) });
      }
      fieldError(input, error, message);
      if (message) {
        input.focus();
        return null;
      }
      const prefix = Array.isArray(current.prefixes)
        ? selectedPrefix().value || ""
        : typeof current.prefixes === "string" ? current.prefixes : "";
      return prefix + value + current.postfix;
    },
  };
}

/** OTP: login ID → send-otp → code entry with a resend timer. */
export function otpForm(flow, container) {
  const configs = flow.session.configs;
  container.append(clone("tpl-otp"));
  const requestForm = $("otp-form");
  const verifyForm = $("otp-verify-form");
  const id = loginId(requestForm.querySelector("[data-slot=login-id]"), configs);
  const otpInput = $("otp-input");
  const otpError = $("otp-error");
  const timerText = $("otp-timer");
  const resend = $("resend-otp");
  const length = Number(configs["otp.length"]) || 6;
  const delay = Number(configs["resend.otp.delay.secs"]) || 180;
  const channels = String(configs["send.otp.channels"] || "email,phone").split(",").map((c) => c.trim()).filter(Boolean);
  let individualId = null;
  let timer = null;
  otpInput.maxLength = length;
  $("otp-hint").textContent = t("js.login.otp_hint", { length });

  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  const startTimer = () => {
    stopTimer();
    const deadline = Date.now() + delay * 1000;
    resend.setAttribute("aria-disabled", "true");
    const tick = () => {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left > 0) {
        timerText.textContent = t("js.login.otp_resend_in", { time: clock(left) });
        return;
      }
      stopTimer();
      timerText.textContent = "";
      resend.setAttribute("aria-disabled", "false");
      announce(t("js.login.otp_resend_ready"));
    };
    tick();
    timer = setInterval(tick, 1000);
  };
  const sentMessage = (result) => {
    const mobile = result.maskedMobile;
    const email = result.maskedEmail;
    if (mobile && email) return t("js.login.otp_sent_both", { mobile, email });
    if (mobile) return t("js.login.otp_sent_mobile", { mobile });
    if (email) return t("js.login.otp_sent_email", { email });
    return t("js.login.otp_sent");
  };
  const send = async (form) => {
    setBusy(form, true);
    const result = await flow.sendOtp(individualId, channels);
    setBusy(form, false);
    if (!result) return false;
    const message = sentMessage(result);
    $("otp-sent").textContent = message;
    announce(message);
    startTimer();
    return true;
  };

  requestForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (requestForm.getAttribute("aria-busy") === "true") return;
    individualId = id.read();
    if (!individualId || !(await send(requestForm))) return;
    requestForm.hidden = true;
    verifyForm.hidden = false;
    otpInput.value = "";
    otpInput.focus();
  });
  resend.addEventListener("click", async () => {
    if (resend.getAttribute("aria-disabled") === "true") return;
    resend.setAttribute("aria-disabled", "true");
    if (!(await send(verifyForm))) resend.setAttribute("aria-disabled", "false");
    otpInput.focus();
  });
  $("change-id").addEventListener("click", () => {
    stopTimer();
    verifyForm.hidden = true;
    requestForm.hidden = false;
    id.input.focus();
  });
  verifyForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (verifyForm.getAttribute("aria-busy") === "true") return;
    const otp = otpInput.value.trim();
    const valid = otp.length === length && /^[0-9]+$/.test(otp);
    fieldError(otpInput, otpError, valid ? "" : t("js.login.otp_invalid", { length }));
    if (!valid) {
      otpInput.focus();
      return;
    }
    flow.authenticate(individualId, [{ authFactorType: "OTP", challenge: otp, format: "alpha-numeric" }], verifyForm);
  });
  return stopTimer;
}

/** PIN: login ID and a numeric PIN. */
export function pinForm(flow, container) {
  container.append(clone("tpl-pin"));
  const form = $("pin-form");
  const id = loginId(form.querySelector("[data-slot=login-id]"), flow.session.configs);
  const pin = $("pin-input");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    const individualId = id.read();
    if (!individualId) return;
    const valid = /^[0-9]+$/.test(pin.value);
    fieldError(pin, $("pin-error"), valid ? "" : t("js.login.pin_invalid"));
    if (!valid) return pin.focus();
    flow.authenticate(individualId, [{ authFactorType: "PIN", challenge: pin.value, format: "number" }], form);
  });
  return null;
}

/** Password: login ID, password checked against password.regex / password.max-length. */
export function passwordForm(flow, container) {
  const configs = flow.session.configs;
  container.append(clone("tpl-pwd"));
  const form = $("password-form");
  const id = loginId(form.querySelector("[data-slot=login-id]"), configs);
  const password = $("password-input");
  const maxLength = Number(configs["password.max-length"]) || 0;
  if (maxLength) password.maxLength = maxLength;
  const toggle = $("password-toggle");
  toggle.addEventListener("click", () => {
    const show = password.type === "password";
    password.type = show ? "text" : "password";
    toggle.setAttribute("aria-pressed", String(show));
  });
  const forgot = configs["forgot-password.config"] || {};
  const client = configs.clientAdditionalConfig || {};
  const url = forgot["forgot-password.url"];
  if (forgot["forgot-password"] === true && client.forgot_pwd_link_required !== false
      && typeof url === "string" && /^(https?:\/\/|\/(?!\/))/i.test(url)) {
    $("forgot-password-link").href = withAuthorizeQuery(url);
    $("forgot-password").hidden = false;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    const individualId = id.read();
    if (!individualId) return;
    const regex = typeof configs["password.regex"] === "string" ? configs["password.regex"] : "";
    const value = password.value;
    const valid = value.length > 0 && (!maxLength || value.length <= maxLength) && (!regex || matches(regex, value));
    fieldError(password, $("password-error"), valid ? "" : t("js.login.password_invalid"));
    if (!valid) return password.focus();
    flow.authenticate(individualId, [{ authFactorType: "PWD", challenge: value, format: "alpha-numeric" }], form);
  });
  return null;
}

/** The KBI schema: json-form-builder's `{schema: [...]}` or eSignet's legacy field list. */
function kbiSchema(configs) {
  const details = configs["auth.factor.kbi.field-details"];
  if (details && Array.isArray(details.schema)) return { fields: details.schema, language: details.language || {} };
  if (Array.isArray(details)) {
    return {
      fields: details.map((f) => ({
        id: f.id, controlType: f.type === "date" ? "date" : "textbox", required: true, format: f.format,
        labelName: { eng: String(f.id || "").replace(/^./, (c) => c.toUpperCase()) },
        validators: f.regex ? [{ type: "regex", validator: f.regex }] : [],
      })),
      language: {},
    };
  }
  return { fields: [], language: {} };
}

/** `yyyy-MM-dd` (a date input's value) rendered in the field's configured pattern. */
function formatDate(iso, pattern) {
  const [y, m, d] = iso.split("-");
  if (!pattern || !y || !m || !d) return iso;
  return pattern.replace("yyyy", y).replace("MM", m).replace("dd", d);
}

/** KBI: a form built from auth.factor.kbi.field-details; the challenge is B64U(JSON(values)). */
export function kbiForm(flow, container) {
  const configs = flow.session.configs;
  container.append(clone("tpl-kbi"));
  const form = $("kbi-form");
  const { fields, language } = kbiSchema(configs);
  const fallbackLang = (Array.isArray(language.mandatory) && language.mandatory[0]) || "eng";
  const idField = configs["auth.factor.kbi.individual-id-field"] || "individualId";
  const inputs = [];
  for (const field of fields) {
    if (!field || !field.id) continue;
    const key = String(field.id).replace(/[^A-Za-z0-9_-]/g, "_");
    const labels = field.labelName || {};
    const label = labels[config.lang3] || labels[config.lang] || labels["@none"] || labels[fallbackLang]
      || localized(labels) || String(field.id);
    const input = h("input", {
      id: "kbi-" + key, name: field.id, "data-testid": "kbi-field-" + key,
      type: field.controlType === "date" || field.type === "date" ? "date" : field.controlType === "password" ? "password" : "text",
      required: field.required === true, "aria-describedby": "kbi-" + key + "-error", autocomplete: "off",
    });
    const error = h("p", { class: "field-error", id: "kbi-" + key + "-error" });
    form.querySelector("#kbi-fields").append(
      h("div", { class: "field" }, h("label", { for: input.id, text: label }), input, error));
    inputs.push({ field, input, error, label });
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    const values = {};
    let firstInvalid = null;
    for (const { field, input, error, label } of inputs) {
      let value = input.value.trim();
      if (input.type === "date" && value) value = formatDate(value, field.format || "yyyy-MM-dd");
      let message = "";
      if (!value && field.required === true) message = t("js.login.kbi_required", { field: label });
      const validators = Array.isArray(field.validators) ? field.validators : [];
      for (const rule of validators) {
        const pattern = rule.validator || rule.regex;
        if (value && typeof pattern === "string" && (!rule.type || rule.type === "regex") && !matches(pattern, value)) {
          message = t("js.login.kbi_invalid", { field: label });
        }
      }
      fieldError(input, error, message);
      if (message && !firstInvalid) firstInvalid = input;
      if (value) values[field.id] = value;
    }
    if (firstInvalid) return firstInvalid.focus();
    const individualId = values[idField];
    if (!individualId) {
      const first = inputs[0];
      if (first) fieldError(first.input, first.error, t("js.login.kbi_required", { field: idField }));
      return;
    }
    const challenge = base64url(new TextEncoder().encode(JSON.stringify(values)));
    flow.authenticate(individualId, [{ authFactorType: "KBI", challenge, format: "base64url-encoded-json" }], form);
  });
  return null;
}
