// /signup/identity-verification: the eKYC steps. Arriving with `id_token_hint` it first goes
// through the provider's /authorize as the signup client (companions 3.12 e); back with
// `code` and `state` it lists the verifiers (initiate), shows the chosen one's terms
// (identity-verifier/{id}), previews the camera, waits for a slot, runs the live steps over
// the STOMP WebSocket, polls the result and returns to `<issuer>/consent?key=<state>`.

import { $, ApiError, call, config, errorMessage, extendCatalogue, h, leaveOnHttpError, num, query, settings, showStep, t, wait } from "./signup.js";
import { connect } from "./stomp.js";

const state = query.get("state");
let configs = {};
let stream = null;

/** `<esignet-consent.redirect-url>?key=<state>[&error=<code>]`. */
function consentUrl(error) {
  const base = String(configs["esignet-consent.redirect-url"] || "/consent");
  const params = new URLSearchParams({ key: state || "" });
  if (error) params.set("error", error);
  return base + (base.includes("?") ? "&" : "?") + params.toString();
}

function stopCamera() {
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
}

/** The final screen: success, or failure with the code passed back to the provider. */
function end(error, message) {
  stopCamera();
  $("end-heading").textContent = error ? t("js.verify.failed_heading") : t("js.verify.success_heading");
  $("end-message").textContent = message || (error ? errorMessage(error) : t("js.verify.success_message"));
  const back = $("return");
  if (state) back.setAttribute("href", consentUrl(error));
  else back.hidden = true;
  showStep("step-end");
  document.documentElement.dataset.ready = error ? "failed" : "done";
}

for (const button of document.querySelectorAll("[data-cancel]")) {
  button.addEventListener("click", () => {
    stopCamera();
    location.assign(consentUrl("dismiss"));
  });
}

/** Major version of the running browser per `broswer.minimum-version` (sic) keys; null if unknown. */
function browserVersion() {
  const ua = navigator.userAgent;
  const pick = (re) => (ua.match(re) || [])[1];
  const edge = pick(/Edg\/(\d+)/);
  if (edge) return { name: "edge", version: Number(edge) };
  const chrome = pick(/Chrome\/(\d+)/);
  if (chrome) return { name: "chrome", version: Number(chrome) };
  const firefox = pick(/Firefox\/(\d+)/);
  if (firefox) return { name: "firefox", version: Number(firefox) };
  const safari = pick(/Version\/(\d+).*Safari/);
  if (safari) return { name: "safari", version: Number(safari) };
  return null;
}

function browserSupported() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.WebSocket) return false;
  let minimum = configs["broswer.minimum-version"];
  if (typeof minimum === "string") {
    try {
      minimum = JSON.parse(minimum);
    } catch {
      minimum = null;
    }
  }
  const running = browserVersion();
  if (!minimum || !running || minimum[running.name] === undefined) return true;
  return running.version >= (parseInt(minimum[running.name], 10) || 0);
}

/** The text of a language map in the page language (3-letter or 2-letter keys). */
function localized(map) {
  if (!map || typeof map !== "object") return typeof map === "string" ? map : "";
  return map[config.lang3] ?? map[config.lang] ?? map.eng ?? map.en ?? Object.values(map)[0] ?? "";
}

/** Merges the workflow's strings (stepCodes, errors, messages) into the catalogue (companions 3.10). */
function mergeStrings(workflow) {
  const entries = {};
  for (const [group, prefix] of [["stepCodes", "js.verify.step."], ["errors", "errors."], ["messages", "js.verify.message."]]) {
    for (const [code, texts] of Object.entries((workflow && workflow[group]) || {})) {
      const text = localized(texts);
      if (text) entries[prefix + code] = text;
    }
  }
  extendCatalogue(entries);
}

/** The terms' HTML reduced to text structure: only these elements survive, with no attributes. */
const SAFE_TAGS = new Set(["P", "UL", "OL", "LI", "B", "STRONG", "I", "EM", "BR", "H2", "H3", "H4", "SPAN", "DIV"]);
function safeTerms(html) {
  const doc = new DOMParser().parseFromString(String(html || ""), "text/html");
  const copy = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.textContent);
    if (node.nodeType !== Node.ELEMENT_NODE) return null;
    const children = Array.from(node.childNodes, copy).filter(Boolean);
    if (!SAFE_TAGS.has(node.tagName)) return children.length ? h("span", {}, ...children) : null;
    return h(node.tagName.toLowerCase(), {}, ...children);
  };
  return Array.from(doc.body.childNodes, copy).filter(Boolean);
}

async function chooseVerifier(verifiers) {
  if (verifiers.length === 1) return verifiers[0];
  const list = $("provider-list");
  showStep("step-providers");
  document.documentElement.dataset.ready = "providers";
  return new Promise((resolve) => {
    list.replaceChildren(...verifiers.map((v) => {
      const logo = v.logoUrl ? h("img", { src: v.logoUrl, alt: "" }) : null;
      const description = localized(v.description);
      return h("li", { class: "option" }, h("button", { type: "button", "data-testid": "verifier-" + v.id, onclick: () => resolve(v) },
        logo, h("span", {}, h("span", { class: "client-name", text: localized(v.displayName) || v.id }), description ? h("span", { class: "hint", text: " " + description }) : null)));
    }));
  });
}

/** Captures one JPEG frame of `video` as base64 (no data-URL prefix). */
function captureFrame(video, canvas) {
  const width = video.videoWidth || 640;
  const height = video.videoHeight || 480;
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(video, 0, 0, width, height);
  return canvas.toDataURL("image/jpeg", 0.7).replace(/^data:image\/jpeg;base64,/, "");
}

/** POST slot, polling while `slot_not_available` (slot.request.delay × slot.request.limit). */
async function allotSlot(verifierId) {
  const delay = num(configs, "slot.request.delay", 20);
  const limit = Math.max(1, num(configs, "slot.request.limit", 10));
  for (let attempt = 0; attempt < limit; attempt++) {
    try {
      const response = await call("POST", "/identity-verification/slot", { verifierId, consent: "AGREE", disabilityType: null });
      return response.slotId;
    } catch (error) {
      if (leaveOnHttpError(error)) return null;
      if (!(error instanceof ApiError) || error.code !== "slot_not_available") throw error;
      $("slot-text").textContent = t("js.verify.slot_busy", { attempt: attempt + 1, limit });
    }
    if (attempt + 1 < limit) await wait(delay);
  }
  throw new ApiError("slot_not_available", 200);
}

/** Runs the live steps over the socket; resolves on step END, rejects with an error code. */
function liveSteps(slotId) {
  const video = $("live-video");
  video.srcObject = stream;
  const canvas = document.createElement("canvas");
  const feedback = $("live-feedback");
  const frameBox = $("camera-frame");
  showStep("step-live");
  document.documentElement.dataset.ready = "live";
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = scheme + "//" + location.host + config.api + "/ws?slotId=" + encodeURIComponent(slotId);
  return new Promise((resolve, reject) => {
    let capture = null;
    let stepTimer = null;
    let current = null;
    let finished = false;
    const stopStep = () => {
      clearInterval(capture);
      clearTimeout(stepTimer);
      capture = null;
    };
    const finish = (error) => {
      if (finished) return;
      finished = true;
      stopStep();
      client.close();
      if (error) reject(new ApiError(error, 200));
      else resolve();
    };
    const sendFrames = (stepCode, order) => {
      client.send("/v1/signup/ws/process-frame", JSON.stringify({ slotId, stepCode, frames: [{ frame: captureFrame(video, canvas), order }] }));
    };
    const runStep = (step) => {
      stopStep();
      current = step;
      $("live-step").textContent = t("js.verify.step." + step.code) === "js.verify.step." + step.code ? step.code : t("js.verify.step." + step.code);
      const fps = Math.min(30, Math.max(0.1, Number(step.framesPerSecond) || 1));
      const duration = Math.max(1, Number(step.durationInSeconds) || 60);
      const startDelay = Math.max(0, Number(step.startupDelayInSeconds) || 0);
      let order = 0;
      stepTimer = setTimeout(() => {
        capture = setInterval(() => sendFrames(step.code, order++), 1000 / fps);
        stepTimer = setTimeout(() => {
          if (step.retryOnTimeout) runStep(step);
          else finish("step_timeout");
        }, duration * 1000);
      }, startDelay * 1000);
    };
    const client = connect(url, location.host, {
      onConnected() {
        client.subscribe("/topic/" + slotId);
        sendFrames("START", 0);
      },
      onMessage(destination, body) {
        let result;
        try {
          result = JSON.parse(body);
        } catch {
          return;
        }
        const fb = result && result.feedback;
        if (fb && fb.type === "ERROR") {
          const retryable = current && Array.isArray(current.retryableErrorCodes) && current.retryableErrorCodes.includes(fb.code);
          if (!retryable) {
            finish(fb.code || "identity_verification_failed");
            return;
          }
          $("live-alert").textContent = errorMessage(fb.code);
        } else if (fb && fb.type === "COLOR") {
          if (/^(#[0-9a-f]{3,8}|[a-z]{3,20})$/i.test(String(fb.code))) frameBox.style.borderColor = fb.code;
        } else if (fb && fb.type === "MESSAGE") {
          $("live-alert").textContent = "";
          const key = "js.verify.message." + fb.code;
          feedback.textContent = t(key) === key ? fb.code : t(key);
        }
        const step = result && result.step;
        if (step && step.code) {
          if (String(step.code).toUpperCase() === "END") finish(null);
          else if (!current || current.code !== step.code) runStep(step);
        }
      },
      onError(code) {
        finish(code === "web_socket_fail" ? code : "web_socket_fail");
      },
    });
  });
}

/** Polls `GET identity-verification/status` until COMPLETED or FAILED. */
async function result() {
  showStep("step-result");
  const delay = num(configs, "status.request.delay", 20);
  const limit = Math.max(1, num(configs, "status.request.limit", 10));
  const retry = String(configs["status.request.retry.error.codes"] || "unknown_error").split(",").map((c) => c.trim());
  for (let attempt = 0; attempt < limit; attempt++) {
    try {
      const response = await call("GET", "/identity-verification/status");
      if (response.status === "COMPLETED") return null;
      if (response.status === "FAILED") return "ekyc_failed";
    } catch (error) {
      if (leaveOnHttpError(error)) return undefined;
      if (!retry.includes(error.code)) return error.code;
    }
    if (attempt + 1 < limit) await wait(delay);
  }
  return "ekyc_failed";
}

async function main() {
  try {
    configs = await settings();
  } catch (error) {
    if (!leaveOnHttpError(error)) end("unknown_error");
    return;
  }
  // Coming from the provider's claim-details page: authenticate as the signup client first.
  if (query.has("id_token_hint")) {
    const params = new URLSearchParams({
      state: state || "",
      client_id: String(configs["signup.oauth-client-id"] || "mosip-signup-oauth-client"),
      redirect_uri: String(configs["identity-verification.redirect-url"] || location.origin + location.pathname),
      scope: "openid",
      response_type: "code",
      id_token_hint: query.get("id_token_hint"),
      ui_locales: query.get("ui_locales") || config.lang,
    });
    const base = String(configs["signin.redirect-url"] || "/authorize");
    location.replace(base + (base.includes("?") ? "&" : "?") + params.toString());
    return;
  }
  const code = query.get("code");
  if (!state || !code) {
    end("invalid_transaction");
    return;
  }
  if (!browserSupported()) {
    end("incompatible_browser");
    return;
  }
  try {
    const initiated = await call("POST", "/identity-verification/initiate", { authorizationCode: code, state });
    const verifiers = ((initiated && initiated.identityVerifiers) || []).filter((v) => v && v.active !== false);
    if (!verifiers.length) {
      end("no_ekyc_provider");
      return;
    }
    const verifier = await chooseVerifier(verifiers);
    const workflow = await call("GET", "/identity-verification/identity-verifier/" + encodeURIComponent(verifier.id));
    mergeStrings(workflow);
    $("terms-content").replaceChildren(...safeTerms(localized(workflow && workflow["terms&Conditions"])));
    showStep("step-terms");
    document.documentElement.dataset.ready = "terms";
    await new Promise((resolve) => {
      $("terms-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const agreed = $("terms-agree").checked;
        $("terms-error").textContent = agreed ? "" : t("js.verify.terms_required");
        if (agreed) resolve();
        else $("terms-agree").focus();
      });
    });

    const info = (workflow && workflow.previewInfo) || {};
    $("preview-info").replaceChildren(...Object.keys(info).sort().map((k) => h("li", { text: localized(info[k]) })).filter((li) => li.textContent));
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false });
    } catch {
      end("camera_denied", t("js.verify.camera_denied"));
      return;
    }
    $("preview-video").srcObject = stream;
    showStep("step-preview");
    document.documentElement.dataset.ready = "preview";
    await new Promise((resolve) => $("start-verification").addEventListener("click", resolve, { once: true }));

    showStep("step-slot");
    const slotId = await allotSlot(verifier.id);
    if (!slotId) return;
    await liveSteps(slotId);
    stopCamera();
    const outcome = await result();
    if (outcome === undefined) return;
    end(outcome);
  } catch (error) {
    if (leaveOnHttpError(error)) return;
    end(error instanceof ApiError ? error.code : "unknown_error");
  }
}

main();
