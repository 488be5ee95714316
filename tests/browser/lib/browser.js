// Headless Chromium (Debian's /usr/bin/chromium, never a downloaded build) driven by
// playwright-core, plus the checks every page gets: a screenshot, an axe-core scan, and no
// script errors or CSP violations in the console.

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium } from "playwright-core";
import { REPO_ROOT } from "./servers.js";

const require = createRequire(import.meta.url);
const AXE_SOURCE = require("axe-core").source;
const jsQR = require("jsqr").default;

/** The browser: CHROMIUM_PATH, else Debian's package. */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

/** Where screenshots and the axe report go (CI keeps the directory as an artifact). */
export const ARTIFACTS = process.env.BROWSER_ARTIFACTS_DIR || path.join(REPO_ROOT, "target", "browser-artifacts");

/**
 * Chromium's flags. Without the background-networking ones Chromium keeps calling Google
 * services, which a closed network answers with a flood of failures. Playwright adds a fresh
 * temporary `--user-data-dir` itself (and removes it on close).
 */
const FLAGS = [
  "--no-sandbox",
  // The identity-verification page's camera: Chromium's synthetic video, allowed without a prompt.
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** Launches headless Chromium. */
export async function launch() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60000 });
}

// Console messages that are not failures: Chromium logs every refused connection of the SBI
// port scan (closed ports 4501-4600 are the normal case) and the relying party's missing
// favicon.
const BENIGN = [
  (text, url) => /^http:\/\/127\.0\.0\.1:4[56]\d\d\//.test(url),
  (text, url) => url.endsWith("/favicon.ico"),
];

/**
 * A fresh context (no cookies, no storage) and page. `page.problems` collects uncaught script
 * errors and console errors (CSP violations included) for `assertNoProblems`.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: "en-GB",
    ...options,
  });
  context.setDefaultTimeout(15000);
  context.setDefaultNavigationTimeout(20000);
  const page = await context.newPage();
  page.problems = [];
  // Pages answered with an error status on purpose (the error pages): Chromium logs their
  // load as a failed resource, which is not a problem of the page.
  page.errorDocuments = new Set();
  page.on("response", (response) => {
    if (response.status() >= 400 && response.request().isNavigationRequest()) page.errorDocuments.add(response.url());
  });
  page.on("pageerror", (error) => page.problems.push({ text: `uncaught: ${error.message}`, url: page.url() }));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const url = message.location().url || "";
    if (BENIGN.some((benign) => benign(message.text(), url))) return;
    page.problems.push({ text: `console: ${message.text()}`, url: url || page.url(), resource: true });
  });
  return page;
}

/** Fails when the page logged a script error or a console error (a CSP violation included). */
export function assertNoProblems(page) {
  const problems = page.problems.filter((problem) =>
    !(problem.resource && problem.text.includes("Failed to load resource") && page.errorDocuments.has(problem.url)));
  if (problems.length) {
    throw new Error(`the page reported problems:\n  ${problems.map((p) => `${p.text} (${p.url})`).join("\n  ")}`);
  }
}

/** Saves a full-page screenshot as `<artifacts>/<name>.png`. */
export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Every axe result of the run, by page name, written to `<artifacts>/axe-report.json`. */
const axeReport = {};

/** Impacts that fail a test. */
const FAILING = new Set(["serious", "critical"]);

/**
 * Runs axe-core on the page as it is now (injected through the DevTools protocol, so the pages'
 * CSP is untouched) and fails on any serious or critical violation. Lesser findings are kept in
 * the report.
 */
export async function checkAccessibility(page, name) {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ["violations"] }));
  const violations = results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 10),
  }));
  axeReport[name] = { url: page.url(), violations };
  writeFileSync(path.join(ARTIFACTS, "axe-report.json"), JSON.stringify(axeReport, null, 2));
  const failing = violations.filter((v) => FAILING.has(v.impact));
  if (failing.length) {
    const lines = failing.map((v) => `${v.impact} ${v.id}: ${v.help} → ${v.nodes.join(", ")}`);
    throw new Error(`axe found ${failing.length} serious/critical violation(s) on ${name}:\n  ${lines.join("\n  ")}`);
  }
}

/** Screenshot plus axe: what every visited page gets. */
export async function checkPage(page, name) {
  await screenshot(page, name);
  await checkAccessibility(page, name);
}

/** The axe findings so far (for the summary printed at the end). */
export function axeSummary() {
  const pages = Object.keys(axeReport).length;
  const counts = {};
  for (const { violations } of Object.values(axeReport)) {
    for (const v of violations) counts[v.impact] = (counts[v.impact] || 0) + 1;
  }
  return { pages, counts };
}

/** Whether the page scrolls horizontally (content wider than the viewport). */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, overflow: root.scrollWidth > root.clientWidth };
  });
}

/** The focused element and whether its focus indicator is visible (a real outline or box shadow). */
export async function focusState(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { id: null, visible: false };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
    const shadow = style.boxShadow && style.boxShadow !== "none";
    return {
      id: el.id || el.tagName.toLowerCase(),
      text: (el.textContent || "").trim().slice(0, 60),
      focusVisible: el.matches(":focus-visible"),
      visible: el.matches(":focus-visible") && (outline || Boolean(shadow)),
      outline: `${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}`,
    };
  });
}

/**
 * Reads the QR code in `locator` as a phone camera would: from the pixels on screen. The
 * element's screenshot is decoded to RGBA by the browser (a blank page, no CSP) and handed to
 * jsQR, which finds the finder patterns, samples the grid and corrects errors on its own, so
 * this also checks that the page's hand-written encoder draws a scannable symbol.
 */
export async function scanQrCode(browser, locator) {
  const png = await locator.screenshot();
  const scratch = await browser.newPage();
  try {
    const image = await scratch.evaluate(async (source) => {
      const img = new Image();
      img.src = `data:image/png;base64,${source}`;
      await img.decode();
      const canvas = document.createElement("canvas");
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext("2d");
      context.drawImage(img, 0, 0);
      const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
      // Base64, not an array: serialising a number per byte takes seconds.
      let binary = "";
      for (let i = 0; i < data.length; i += 0x8000) binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
      return { rgba: btoa(binary), width, height };
    }, png.toString("base64"));
    const pixels = new Uint8ClampedArray(Buffer.from(image.rgba, "base64"));
    const code = jsQR(pixels, image.width, image.height, { inversionAttempts: "dontInvert" });
    if (!code) throw new Error(`no QR code found in a ${image.width}x${image.height} screenshot`);
    return code.data;
  } finally {
    await scratch.close();
  }
}
