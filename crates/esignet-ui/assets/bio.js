// Biometric login through SBI 2.0 devices on the loopback interface: discovery (MOSIPDISC) and
// device info (MOSIPDINFO) across `sbi.port.range`, a device list with refresh, CAPTURE, then
// authenticate with the captured biometrics (format `encoded-json`).

import { $, announce, clone, errorMessage, fieldError, h, showError, t, utf8ToBase64 } from "./common.js";
import { loginId } from "./forms.js";

const HOST = "http://127.0.0.1";
const PORT_MIN = 4501;
const PORT_MAX = 4600;
// Closed ports refuse at once; a slow device still answers discovery well within this.
const PORT_TIMEOUT_MS = 2500;
const CONCURRENCY = 16;
const RETRY_EVERY_MS = 4000;
const MODALITY_KEYS = { Face: "js.bio.face", Finger: "js.bio.finger", Iris: "js.bio.iris" };

/** The ports of `sbi.port.range` ("4501-4600"); the whole SBI range when absent or outside it. */
export function ports(range) {
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(String(range || ""));
  let [from, to] = match ? [Number(match[1]), Number(match[2])] : [PORT_MIN, PORT_MAX];
  if (!(from >= PORT_MIN && to <= PORT_MAX && from <= to)) [from, to] = [PORT_MIN, PORT_MAX];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The auth transaction id eSignet derives: drop - and _, read from the end backwards, wrapping. */
export function authTransactionId(transactionId, length) {
  const chars = [...String(transactionId)].filter((c) => c !== "-" && c !== "_");
  let out = "";
  for (let i = 0; chars.length && i < length; i++) out += chars[chars.length - 1 - (i % chars.length)];
  return out;
}

/** The payload of a JWS (or a bare base64url JSON), decoded without verification. */
export function jwsPayload(value) {
  if (value && typeof value === "object") return value;
  if (typeof value !== "string") return null;
  const parts = value.split(".");
  const encoded = parts.length === 3 ? parts[1] : value;
  try {
    let b64 = encoded.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** One SBI request; resolves to the JSON answer or null (no device, timeout, bad answer). */
async function sbi(method, url, body, timeoutMs, signal) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const onCancel = () => abort.abort();
  if (signal) signal.addEventListener("abort", onCancel, { once: true });
  try {
    const response = await fetch(url, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      signal: abort.signal, credentials: "omit", cache: "no-store",
    });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", onCancel);
  }
}

/** Runs `worker` over `items` with at most `limit` in flight. */
async function pool(items, limit, worker) {
  const results = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await worker(items[index]);
    }
  });
  await Promise.all(runners);
  return results;
}

/** The L1 authentication devices described by a MOSIPDINFO answer. */
export function parseDeviceInfo(answer, port) {
  const devices = [];
  for (const entry of Array.isArray(answer) ? answer : []) {
    const info = jwsPayload(entry && entry.deviceInfo);
    if (!info) continue;
    const digitalId = jwsPayload(info.digitalId) || {};
    if (String(info.certification).toUpperCase() !== "L1" || String(info.purpose).toLowerCase() !== "auth") continue;
    devices.push({
      port,
      specVersion: Array.isArray(info.specVersion) ? info.specVersion[0] : info.specVersion,
      type: digitalId.type,
      deviceId: info.deviceId,
      model: digitalId.model,
      make: digitalId.make,
      serialNo: digitalId.serialNo,
      status: info.deviceStatus,
    });
  }
  return devices;
}

/** Scans every port once: MOSIPDISC, then MOSIPDINFO where something answered. */
async function scan(configs, signal) {
  const discTimeout = Math.min((Number(configs["sbi.timeout.DISC"]) || 30) * 1000, PORT_TIMEOUT_MS);
  const infoTimeout = Math.min((Number(configs["sbi.timeout.DINFO"]) || 30) * 1000, 4 * PORT_TIMEOUT_MS);
  const found = await pool(ports(configs["sbi.port.range"]), CONCURRENCY, async (port) => {
    if (signal.aborted) return [];
    const discovered = await sbi("MOSIPDISC", `${HOST}:${port}/device`, { type: "Biometric Device" }, discTimeout, signal);
    if (!discovered || signal.aborted) return [];
    return parseDeviceInfo(await sbi("MOSIPDINFO", `${HOST}:${port}/info`, undefined, infoTimeout, signal), port);
  });
  return found.flat();
}

/** The CAPTURE request body of SBI 2.0 for `device`. */
export function captureRequest(device, configs, transactionId, factor) {
  const modality = String(device.type || "Face");
  const key = modality.toLowerCase();
  const subTypes = String(configs["sbi.bio.subtypes." + key] || "UNKNOWN").split(",").map((s) => s.trim()).filter(Boolean);
  const count = Number(configs["sbi.capture.count." + key]) || (factor && factor.count) || 1;
  return {
    env: configs["sbi.env"] || "Developer",
    purpose: "Auth",
    specVersion: device.specVersion,
    timeout: (Number(configs["sbi.timeout.CAPTURE"]) || 30) * 1000,
    captureTime: new Date().toISOString(),
    domainUri: location.origin,
    transactionId: authTransactionId(transactionId, Number(configs["auth.txnid.length"]) || 10),
    bio: [{
      type: modality,
      count,
      bioSubType: key === "face" ? null : subTypes,
      requestedScore: Number(configs["sbi.capture.score." + key]) || 70,
      deviceId: device.deviceId,
      deviceSubId: "0",
      previousHash: "",
    }],
    customOpts: null,
  };
}

/** Biometric login form; returns a cleanup that stops discovery. */
export function bioForm(flow, container, factor) {
  const configs = flow.session.configs;
  container.append(clone("tpl-bio"));
  const form = $("bio-form");
  const id = loginId(form.querySelector("[data-slot=login-id]"), configs);
  const select = $("bio-device");
  const status = $("bio-scan-status");
  const refresh = $("bio-refresh");
  const stop = $("bio-stop");
  const allowed = factor && Array.isArray(factor.subTypes) && factor.subTypes.length ? factor.subTypes : null;
  let devices = [];
  let scanning = null;

  const radios = [...form.querySelectorAll("input[name=bio-modality]")];
  const modality = () => (radios.find((r) => r.checked) || {}).value;
  const fillDevices = () => {
    const shown = devices.filter((d) => d.type === modality());
    select.replaceChildren(...shown.map((d) => h("option", {
      value: String(devices.indexOf(d)),
      text: t("js.bio.device_option", { modality: t(MODALITY_KEYS[d.type] || "js.bio.face"), model: d.model || d.make || "?", port: d.port }),
    })));
    const ready = shown.findIndex((d) => d.status === "Ready");
    if (ready >= 0) select.selectedIndex = ready;
  };
  const render = () => {
    for (const radio of radios) {
      radio.disabled = !devices.some((d) => d.type === radio.value) || (allowed && !allowed.includes(radio.value));
    }
    if (!radios.some((r) => r.checked && !r.disabled)) {
      const first = radios.find((r) => !r.disabled);
      if (first) first.checked = true;
    }
    fillDevices();
  };
  radios.forEach((radio) => radio.addEventListener("change", fillDevices));

  const discover = async () => {
    if (scanning) scanning.abort();
    const controller = new AbortController();
    scanning = controller;
    stop.hidden = false;
    status.textContent = t("js.bio.scanning");
    const deadline = Date.now() + (Number(configs["sbi.timeout.DISC"]) || 30) * 1000;
    for (;;) {
      devices = await scan(configs, controller.signal);
      if (controller.signal.aborted) return;
      if (devices.length || Date.now() + RETRY_EVERY_MS > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
      if (controller.signal.aborted) return;
    }
    scanning = null;
    stop.hidden = true;
    render();
    const message = devices.length ? t("js.bio.found", { count: devices.length }) : t("js.bio.none_found");
    status.textContent = message;
    announce(message);
  };
  refresh.addEventListener("click", discover);
  stop.addEventListener("click", () => {
    if (scanning) scanning.abort();
    scanning = null;
    stop.hidden = true;
    status.textContent = t("js.bio.stopped");
    refresh.focus();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return;
    const individualId = id.read();
    if (!individualId) return;
    const device = devices[Number(select.value)];
    if (!device || select.value === "") {
      fieldError(select, status, t("js.bio.choose_device"));
      return select.focus();
    }
    fieldError(select, status, "");
    form.setAttribute("aria-busy", "true");
    $("bio-capture").disabled = true;
    status.textContent = t("js.bio.capturing");
    announce(t("js.bio.capturing"));
    const body = captureRequest(device, configs, flow.session.details.transactionId, factor);
    const answer = await sbi("CAPTURE", `${HOST}:${device.port}/capture`, body, body.timeout + 5000);
    form.setAttribute("aria-busy", "false");
    $("bio-capture").disabled = false;
    const biometrics = answer && Array.isArray(answer.biometrics) ? answer.biometrics : [];
    const failed = biometrics.find((b) => b && b.error && String(b.error.errorCode) !== "0");
    if (!biometrics.length || failed) {
      status.textContent = "";
      // The device's own message (English, from the vendor) is shown with its SBI code.
      showError(failed
        ? t("js.bio.device_error", { code: String(failed.error.errorCode), info: String(failed.error.errorInfo || "") })
        : errorMessage("biometric_capture_failed"));
      return;
    }
    status.textContent = "";
    const cleaned = biometrics.map(({ error, ...rest }) => rest);
    flow.authenticate(individualId, [{
      authFactorType: "BIO", challenge: utf8ToBase64(JSON.stringify(cleaned)), format: "encoded-json",
    }], form);
  });

  discover();
  return () => {
    if (scanning) scanning.abort();
  };
}
