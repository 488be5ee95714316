// A small renderer of the json-form-builder specifications the profile registry serves
// (`GET /registration/ui-spec`): text, phone, password (+ confirmation), dropdown, date and
// checkbox fields, labels and validation messages from the spec in the page language.
// `renderForm` fills a container and returns `{read}`: `read()` validates every field, shows
// the messages and gives the values (or null).

import { config, fieldError, h, t } from "./signup.js";

/** The text of a language map (`{eng: "...", khm: "..."}` or 2-letter keys) in the page language. */
export function localized(map, fallback = "") {
  if (typeof map === "string") return map;
  if (!map || typeof map !== "object") return fallback;
  return map[config.lang3] ?? map[config.lang] ?? map.eng ?? map.en ?? Object.values(map)[0] ?? fallback;
}

function testRegex(pattern, value) {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return true; // an unusable pattern from the spec does not block the resident
  }
}

/** Options of a dropdown: `allowedValues[id]` as an array or a `{code: label-map}` object. */
function options(spec, id) {
  const values = spec.allowedValues && spec.allowedValues[id];
  if (Array.isArray(values)) {
    return values.map((v) => (typeof v === "object" && v ? { value: String(v.value ?? v.code ?? ""), label: localized(v.label ?? v.name ?? v.value) } : { value: String(v), label: String(v) }));
  }
  if (values && typeof values === "object") {
    return Object.entries(values).map(([value, label]) => ({ value, label: localized(label, value) }));
  }
  return [];
}

/** `yyyy-mm-dd` (the date input) in the spec's `format` (`dd-MM-yyyy`, `yyyy/MM/dd`, ...). */
function formatDate(iso, format) {
  const [y, m, d] = iso.split("-");
  if (!format) return iso;
  return format.replace(/yyyy/i, y).replace("MM", m).replace(/dd/i, d);
}

/** One field's elements and reader. */
function field(spec, def, fixed, index) {
  const id = String(def.id || "field" + index);
  const inputId = "form-" + id.replace(/[^A-Za-z0-9_-]/g, "_");
  const label = localized(def.labelName, id);
  const errorEl = h("p", { class: "field-error", id: inputId + "-error", "data-testid": inputId + "-error", "aria-live": "assertive" });
  const hintText = localized(def.info);
  const hint = hintText ? h("p", { class: "hint", id: inputId + "-hint", text: hintText }) : null;
  const described = [hint && hint.id, errorEl.id].filter(Boolean).join(" ");
  const required = def.required === true;
  const type = String(def.controlType || "textbox").toLowerCase();
  const validators = Array.isArray(def.validators) ? def.validators : [];
  const errorFor = (validator) => localized(validator.error, "") || t("js.form.invalid", { field: label });

  if (type === "checkbox") {
    const input = h("input", { type: "checkbox", id: inputId, "data-testid": inputId, "aria-describedby": described, required: required || undefined });
    const wrap = h("div", { class: "field check-field" }, input, h("label", { for: inputId, text: label }));
    return {
      nodes: [wrap, hint, errorEl],
      read() {
        const ok = !required || input.checked;
        fieldError(input, errorEl, ok ? "" : t("js.form.required_check", { field: label }));
        return ok ? { ok, value: id === "consent" ? (input.checked ? "AGREE" : "DISAGREE") : input.checked } : { ok, input };
      },
    };
  }

  let input;
  if (type === "dropdown") {
    input = h("select", { id: inputId, "data-testid": inputId, "aria-describedby": described, required: required || undefined },
      h("option", { value: "", text: localized(def.placeholder) || t("js.form.choose") }),
      ...options(spec, id).map((o) => h("option", { value: o.value, text: o.label })));
  } else {
    const inputType = type === "password" ? "password" : type === "date" ? "date" : type === "phone" ? "tel" : "text";
    input = h("input", {
      type: inputType, id: inputId, "data-testid": inputId, "aria-describedby": described, required: required || undefined,
      autocomplete: type === "password" ? "new-password" : type === "phone" ? "tel" : "off",
      placeholder: localized(def.placeholder) || undefined, dir: type === "phone" || type === "password" ? "ltr" : undefined,
    });
  }
  if (fixed !== undefined) {
    input.value = fixed;
    input.readOnly = true;
  }
  const nodes = [h("div", { class: "field" }, h("label", { for: inputId, text: label }), input, hint, errorEl)];

  // Password: a confirmation field (json-form-builder's `password_confirm`).
  let confirm = null;
  let confirmError = null;
  if (type === "password") {
    confirm = h("input", { type: "password", id: inputId + "-confirm", "data-testid": inputId + "-confirm", autocomplete: "new-password", dir: "ltr", "aria-describedby": inputId + "-confirm-error", required: required || undefined });
    confirmError = h("p", { class: "field-error", id: inputId + "-confirm-error", "aria-live": "assertive" });
    nodes.push(h("div", { class: "field" }, h("label", { for: confirm.id, text: t("js.form.confirm", { field: label }) }), confirm, confirmError));
  }

  return {
    nodes,
    read() {
      const raw = input.value.trim();
      let message = "";
      if (!raw) {
        if (required) message = t("js.form.required", { field: label });
      } else {
        const failed = validators.find((v) => v && typeof v.regex === "string" && (!v.langCode || v.langCode === config.lang3) && !testRegex(v.regex, type === "password" ? input.value : raw));
        if (failed) message = errorFor(failed);
      }
      fieldError(input, errorEl, message);
      if (message) return { ok: false, input };
      if (confirm) {
        const same = confirm.value === input.value;
        fieldError(confirm, confirmError, same ? "" : t("js.form.mismatch"));
        if (!same) return { ok: false, input: confirm };
      }
      if (!raw) return { ok: true, skip: true };
      if (type === "password") return { ok: true, value: input.value };
      if (type === "date") return { ok: true, value: formatDate(raw, def.format) };
      if (def.type === "simpleType") return { ok: true, value: [{ language: config.lang3, value: raw }] };
      return { ok: true, value: raw };
    },
  };
}

/**
 * Renders `spec` into `container`. `fixed` maps field ids to read-only values (the verified
 * phone number). Photo fields are left out (signup here collects no photo).
 */
export function renderForm(container, spec, fixed = {}) {
  const defs = (Array.isArray(spec && spec.schema) ? spec.schema : []).filter((d) => d && String(d.controlType).toLowerCase() !== "photo");
  const fields = defs.map((def, i) => ({ id: String(def.id), ...field(spec, def, fixed[def.id], i) }));
  container.replaceChildren(...fields.flatMap((f) => f.nodes).filter(Boolean));
  return {
    ids: fields.map((f) => f.id),
    read() {
      const values = {};
      let first = null;
      for (const f of fields) {
        const result = f.read();
        if (!result.ok) first = first || result.input;
        else if (!result.skip) values[f.id] = result.value;
      }
      if (first) {
        first.focus();
        return null;
      }
      return values;
    },
  };
}
