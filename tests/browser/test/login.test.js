// The login and consent pages in a real browser: every sign-in factor from the demo relying
// party's button to its profile page, consent choices, errors reaching the relying party,
// right-to-left Arabic, a narrow screen, keyboard-only use, the proof-of-work captcha, and the
// wallet's QR-code login with `esignet wallet-sim` as the phone.
// Every page visited is screenshotted and scanned with axe-core (serious and critical
// violations fail).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  assertNoProblems, axeSummary, checkPage, focusState, horizontalOverflow, launch, newPage,
  scanQrCode, screenshot, ARTIFACTS,
} from "../lib/browser.js";
import { esignetBinary, startDemo, startMockSbi, walletSim } from "../lib/servers.js";

// Demo residents (README): the OTP is always 111111. A resident who has consented is not asked
// again for an hour (consentAction NOCAPTURE), so tests that need the consent page each use a
// resident who has not consented on that provider yet (cancelling stores nothing).
const SIDDHARTH = {
  id: "8267411571", name: "Siddharth Kumar Mansour", password: "Mansour1987", pin: "482916",
  phone: "+212612345678", birthdate: "1987-11-25", email: "siddharth.mansour@example.com",
};
const SREYMOM = { id: "5860142938", name: "Chan Sreymom", pin: "739201" };
const PRIYA = { id: "3519847260", name: "Priya Lakshmi Ramaswamy", password: "Priya1995Chennai" };
const MANJUNATH = { id: "7704215589", name: "Manjunath Gowda", email: "manjunath.gowda@example.net" };
const ALEX = { id: "6102938475", name: "Alex Martin" };
const OTP = "111111";

const TEST = { timeout: 90000 };

let binary;
let browser;
let demo;
let captchaDemo;
let sbi;

before(async () => {
  binary = await esignetBinary();
  // Started together; whatever did start is kept for `after` to stop, even when another failed.
  const started = await Promise.allSettled([
    launch(),
    startDemo(binary),
    startDemo(binary, {
      ESIGNET_CAPTCHA__KIND: "pow",
      ESIGNET_CAPTCHA__REQUIRED: JSON.stringify(["send-otp", "pwd"]),
      ESIGNET_CAPTCHA__POW_DIFFICULTY_BITS: "8",
      // A wallet gets 3 s after scanning to authenticate, for the abandoned wallet login.
      ESIGNET_WALLET__LINKED_TTL_SECS: "3",
    }),
    startMockSbi(binary),
  ]);
  [browser, demo, captchaDemo, sbi] = started.map((result) => (result.status === "fulfilled" ? result.value : null));
  const failed = started.filter((result) => result.status === "rejected");
  if (failed.length) throw failed[0].reason;
}, { timeout: 240000 });

after(async () => {
  await Promise.allSettled([browser?.close(), demo?.close(), captchaDemo?.close(), sbi?.close()]);
  const { pages, counts } = axeSummary();
  console.log(`axe: ${pages} page states scanned; violations by impact: ${JSON.stringify(counts)}; report and screenshots in ${ARTIFACTS}`);
});

// --- steps --------------------------------------------------------------------------------

/** From the relying party's landing page to the sign-in options (or the only form). */
async function startSignIn(page, env, { button = "Sign in with eSignet", shot } = {}) {
  await page.goto(`${env.rp}/`);
  await page.locator("#esignet-sign-in[data-ready=true]").waitFor({ state: "attached" });
  if (shot) await checkPage(page, shot);
  await page.getByRole("button", { name: button, exact: true }).click();
  await page.waitForURL((url) => url.pathname === "/login");
  await page.locator("#sign-in-options").waitFor();
  assert.equal(await page.locator("#loading").isVisible(), false, "the loading indicator is gone");
}

/** Chooses a sign-in option; focus moves to its first field. */
async function choose(page, option) {
  await page.click(`#option-${option}`);
  await page.locator("#form-heading").waitFor();
}

/** Requests and enters the OTP. */
async function otpLogin(page, person, shots = {}) {
  await page.fill("#login-id", person.id);
  if (shots.form) await checkPage(page, shots.form);
  await page.click("#get-otp");
  await page.locator("#otp-input").waitFor({ state: "visible" });
  assert.match(await page.textContent("#otp-sent"), /\S/, "the masked destinations are shown");
  if (shots.verify) await checkPage(page, shots.verify);
  await page.fill("#otp-input", OTP);
  await page.click("#verify-otp");
}

/** Waits for the consent page (the claim-details step passes through on its own). */
async function atConsent(page) {
  await page.waitForURL((url) => url.pathname === "/consent");
  await page.locator("#consent-form").waitFor({ state: "visible" });
}

/** Ends a login whose resident may already have consented: allows if asked, else passes through. */
async function finish(page, env) {
  await page.waitForURL((url) => url.pathname === "/consent" || url.href === `${env.rp}/profile`);
  if (new URL(page.url()).pathname === "/consent") return allow(page, env);
  return page.locator("main").innerText();
}

/** Shares every voluntary claim except `withhold`, allows, and lands on the profile page. */
async function allow(page, env, withhold = []) {
  await page.locator("#consent-form").waitFor({ state: "visible" });
  await page.check("#select-all-voluntary");
  for (const claim of withhold) await page.uncheck(`#claim-${claim}`);
  await page.click("#consent-allow");
  await page.waitForURL(`${env.rp}/profile`);
  return page.locator("main").innerText();
}

// --- the sign-in factors ------------------------------------------------------------------

describe("sign-in factors, relying party button to profile page", () => {
  test("one-time code (OTP)", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo, { shot: "rp-landing" });
    await checkPage(page, "login-options");
    await choose(page, "otp");
    assert.equal(await page.evaluate(() => document.activeElement.id), "login-id", "focus follows the choice");
    await otpLogin(page, SIDDHARTH, { form: "login-otp", verify: "login-otp-verify" });
    await atConsent(page);
    await checkPage(page, "consent");
    const profile = await allow(page, demo);
    assert.match(profile, new RegExp(SIDDHARTH.name));
    assert.match(profile, /eidas/, "verified claims show their trust framework");
    await checkPage(page, "rp-profile");
    assertNoProblems(page);
    await page.context().close();
  });

  test("password", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    await choose(page, "pwd");
    await page.fill("#login-id", PRIYA.id);
    await page.fill("#password-input", "wrong-password-1");
    await page.click("#password-submit");
    // A wrong password is reported in the alert region, with the attempts left.
    await page.locator("#alert:not(:empty)").waitFor();
    await checkPage(page, "login-password-error");
    await page.click("#password-toggle");
    assert.equal(await page.getAttribute("#password-toggle", "aria-pressed"), "true");
    assert.equal(await page.getAttribute("#password-input", "type"), "text");
    await checkPage(page, "login-password");
    await page.fill("#password-input", PRIYA.password);
    await page.click("#password-submit");
    await atConsent(page);
    const profile = await allow(page, demo);
    assert.match(profile, new RegExp(PRIYA.name));
    assertNoProblems(page);
    await page.context().close();
  });

  test("knowledge-based identification (KBI)", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    await choose(page, "kbi");
    await page.fill("#kbi-individualId", SIDDHARTH.id);
    await page.fill("#kbi-phone", SIDDHARTH.phone);
    await page.fill("#kbi-dateOfBirth", SIDDHARTH.birthdate);
    await checkPage(page, "login-kbi");
    await page.click("#kbi-submit");
    // Siddharth consented in the OTP test: claim-details goes straight back to the portal.
    const profile = await finish(page, demo);
    assert.match(profile, new RegExp(SIDDHARTH.name));
    assert.match(profile, /mosip:idp:acr:knowledge/);
    assertNoProblems(page);
    await page.context().close();
  });

  test("biometrics through the mock SBI device", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    await choose(page, "bio");
    await page.fill("#login-id", SIDDHARTH.id);
    // Discovery scans the SBI ports and lists the mock device's three modalities.
    await page.locator("#bio-device option").first().waitFor({ state: "attached", timeout: 30000 });
    await page.locator("#bio-stop").waitFor({ state: "hidden" });
    assert.match(await page.textContent("#bio-device"), new RegExp(String(sbi.port)));
    await checkPage(page, "login-bio");
    await page.check("#bio-modality-finger");
    await page.click("#bio-capture");
    const profile = await finish(page, demo);
    assert.match(profile, new RegExp(SIDDHARTH.name));
    assert.match(profile, /mosip:idp:acr:biometrics/);
    assertNoProblems(page);
    await page.context().close();
  });

  test("PIN through the PAR + DPoP button", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo, { button: "Sign in with eSignet (PAR + DPoP)" });
    await choose(page, "pin");
    await page.fill("#login-id", SREYMOM.id);
    await page.fill("#pin-input", SREYMOM.pin);
    await checkPage(page, "login-pin");
    await page.click("#pin-submit");
    await atConsent(page);
    const profile = await allow(page, demo);
    assert.match(profile, new RegExp(SREYMOM.name));
    assert.match(profile, /DPoP/, "the tokens are DPoP-bound");
    assertNoProblems(page);
    await page.context().close();
  });
});

// --- consent and errors -------------------------------------------------------------------

describe("consent and errors", () => {
  test("a declined voluntary claim is absent from the profile", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    await choose(page, "otp");
    await otpLogin(page, MANJUNATH);
    await atConsent(page);
    const profile = await allow(page, demo, ["email"]);
    assert.match(profile, new RegExp(MANJUNATH.name), "other claims are shared");
    assert.match(profile, /\+918012345678/, "the phone number is shared");
    assert.ok(!profile.includes(MANJUNATH.email), "the declined e-mail is absent");
    assertNoProblems(page);
    await page.context().close();
  });

  test("cancelling on the consent page returns access_denied to the relying party", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    await choose(page, "otp");
    await otpLogin(page, ALEX);
    await atConsent(page);
    await page.click("#consent-cancel");
    await page.locator("#cancel-dialog").waitFor({ state: "visible" });
    assert.equal(await page.evaluate(() => document.activeElement.id), "cancel-stay", "the dialog takes focus");
    await checkPage(page, "consent-cancel-dialog");
    // Escape closes the dialog and keeps the resident on the page.
    await page.keyboard.press("Escape");
    await page.locator("#cancel-dialog").waitFor({ state: "hidden" });
    await page.click("#consent-cancel");
    await page.click("#cancel-discontinue");
    await page.waitForURL((url) => url.origin === demo.rp && url.pathname === "/callback");
    const text = await page.locator("main").innerText();
    assert.match(text, /Sign-in failed/);
    assert.match(text, /access_denied/);
    await checkPage(page, "rp-error");
    assertNoProblems(page);
    await page.context().close();
  });

  test("the provider's error and status pages", TEST, async () => {
    const page = await newPage(browser);
    await page.goto(`${demo.provider}/authorize?scope=openid`);
    await page.locator("#alert:not(:empty)").waitFor();
    await checkPage(page, "authorize-invalid");
    await page.goto(`${demo.provider}/error?error=invalid_transaction`);
    assert.match(await page.textContent("#status-code"), /invalid_transaction/);
    await checkPage(page, "error");
    await page.goto(`${demo.provider}/something-went-wrong?status=500`);
    await checkPage(page, "something-went-wrong");
    await page.goto(`${demo.provider}/no-such-page`);
    assert.match(await page.textContent("#status-code"), /404/);
    await checkPage(page, "page-not-found");
    assertNoProblems(page);
    await page.context().close();
  });
});

// --- layout, languages, keyboard ----------------------------------------------------------

describe("small screens, languages and keyboard", () => {
  test("no horizontal scroll at 320 px", TEST, async () => {
    const page = await newPage(browser, { viewport: { width: 320, height: 640 } });
    await startSignIn(page, demo);
    const options = await horizontalOverflow(page);
    assert.equal(options.overflow, false, `options: ${JSON.stringify(options)}`);
    await screenshot(page, "login-options-320");
    for (const option of ["otp", "pin", "pwd", "kbi", "bio", "wla-0"]) {
      await choose(page, option);
      if (option === "wla-0") await page.locator("#wallet-qr svg").waitFor({ state: "visible" });
      const state = await horizontalOverflow(page);
      assert.equal(state.overflow, false, `${option}: ${JSON.stringify(state)}`);
      await screenshot(page, `login-${option}-320`);
      await page.click("#back-to-options");
    }
    await page.click("#language-button");
    await page.click("#lang-ar");
    await page.waitForURL((url) => url.searchParams.get("ui_locales") === "ar");
    await page.locator("#sign-in-options").waitFor();
    await choose(page, "otp");
    await page.fill("#login-id", ALEX.id);
    const arabic = await horizontalOverflow(page);
    assert.equal(arabic.overflow, false, `Arabic OTP: ${JSON.stringify(arabic)}`);
    await checkPage(page, "login-otp-ar-320");
    await page.click("#get-otp");
    await page.locator("#otp-input").waitFor({ state: "visible" });
    await page.fill("#otp-input", OTP);
    await page.click("#verify-otp");
    await atConsent(page);
    const consent = await horizontalOverflow(page);
    assert.equal(consent.overflow, false, `consent: ${JSON.stringify(consent)}`);
    await checkPage(page, "consent-ar-320");
    // Cancelling stores no consent: Alex is asked again in the next test.
    await page.click("#consent-cancel");
    await page.click("#cancel-discontinue");
    await page.waitForURL((url) => url.origin === demo.rp);
    assertNoProblems(page);
    await page.context().close();
  });

  test("Arabic renders right to left, through the whole login", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    assert.equal(await page.getAttribute("html", "dir"), "ltr");
    await page.click("#language-button");
    await checkPage(page, "login-language-menu");
    await page.click("#lang-ar");
    await page.waitForURL((url) => url.searchParams.get("ui_locales") === "ar");
    await page.locator("#sign-in-options").waitFor();
    assert.equal(await page.getAttribute("html", "dir"), "rtl");
    assert.equal(await page.getAttribute("html", "lang"), "ar");
    await checkPage(page, "login-options-ar");
    await choose(page, "otp");
    await otpLogin(page, ALEX, { form: "login-otp-ar", verify: "login-otp-verify-ar" });
    await atConsent(page);
    assert.equal(await page.getAttribute("html", "dir"), "rtl", "the language follows the flow");
    await checkPage(page, "consent-ar");
    const profile = await allow(page, demo);
    assert.match(profile, new RegExp(ALEX.name));
    assertNoProblems(page);
    await page.context().close();
  });

  test("an OTP login with the keyboard only, focus always visible", TEST, async () => {
    // On the captcha provider (the only one where Alex has not consented yet): the captcha is
    // solved in the background and needs no interaction.
    const page = await newPage(browser);
    const stops = [];
    /** Tabs until the element with `id` has focus, checking each stop's focus indicator. */
    const tabTo = async (id, limit = 40) => {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press("Tab");
        const focus = await focusState(page);
        stops.push(focus.id);
        assert.ok(focus.visible, `focus is not visible on ${JSON.stringify(focus)}`);
        if (focus.id === id) return;
      }
      assert.fail(`Tab never reached #${id}; stops: ${stops.join(", ")}`);
    };
    await page.goto(`${captchaDemo.rp}/`);
    // The page script swaps the plain forms for the provider's button once it has loaded.
    await page.locator("#esignet-sign-in[data-ready=true]").waitFor({ state: "attached" });
    // The relying party's page: Tab to its sign-in button (its header link comes first).
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      const name = await page.evaluate(() => document.activeElement.textContent.trim());
      if (name === "Sign in with eSignet") break;
    }
    await page.keyboard.press("Enter");
    await page.waitForURL((url) => url.pathname === "/login");
    await page.locator("#sign-in-options").waitFor();
    await tabTo("option-otp");
    await page.keyboard.press("Enter");
    await page.locator("#login-id").waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), "login-id", "focus moves to the first field");
    await page.keyboard.type(ALEX.id);
    await page.keyboard.press("Enter");
    await page.locator("#otp-input").waitFor({ state: "visible" });
    assert.equal(await page.evaluate(() => document.activeElement.id), "otp-input", "focus moves to the code");
    await page.keyboard.type(OTP);
    await page.keyboard.press("Enter");
    await atConsent(page);
    // Share everything with the keyboard: the select-all box, then Allow.
    await tabTo("select-all-voluntary");
    await page.keyboard.press("Space");
    assert.equal(await page.isChecked("#claim-email"), true);
    await tabTo("consent-allow");
    await screenshot(page, "consent-keyboard-focus");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${captchaDemo.rp}/profile`);
    assert.match(await page.locator("main").innerText(), new RegExp(ALEX.name));
    assertNoProblems(page);
    await page.context().close();
  });
});

// --- captcha ------------------------------------------------------------------------------

describe("proof-of-work captcha (second provider, send-otp and pwd guarded)", () => {
  test("an OTP login solves the captcha; the API refuses a request without a token", TEST, async () => {
    const page = await newPage(browser);
    const sent = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && /\/authorization\/(send-otp|v3\/authenticate)$/.test(request.url())) {
        sent.push({ path: new URL(request.url()).pathname, request: JSON.parse(request.postData()).request });
      }
    });
    // The first send-otp leaves without its token, as a client skipping the captcha would.
    let stripped = 0;
    await page.route("**/authorization/send-otp", async (route) => {
      if (stripped++ > 0) return route.continue();
      const body = JSON.parse(route.request().postData());
      delete body.request.captchaToken;
      await route.continue({ postData: JSON.stringify(body) });
    });
    await startSignIn(page, captchaDemo);
    await choose(page, "otp");
    await page.locator("#captcha-status", { hasText: /Security check complete/ }).waitFor();
    assert.equal(await page.getAttribute("#captcha-status", "role"), "status");
    await page.fill("#login-id", SIDDHARTH.id);
    await checkPage(page, "login-otp-captcha");
    await page.click("#get-otp");
    await page.locator("#alert", { hasText: /security check failed/i }).waitFor();
    await checkPage(page, "login-otp-captcha-refused");
    // Tokens are single use: the page solves a fresh one for the next attempt.
    await page.click("#get-otp");
    await page.locator("#otp-input").waitFor({ state: "visible" });
    await page.fill("#otp-input", OTP);
    await page.click("#verify-otp");
    await atConsent(page);
    const profile = await allow(page, captchaDemo);
    assert.match(profile, new RegExp(SIDDHARTH.name));
    const sendOtp = sent.filter((s) => s.path.endsWith("/send-otp"));
    assert.equal(sendOtp.length, 2);
    const first = sendOtp[0].request.captchaToken;
    const second = sendOtp[1].request.captchaToken;
    assert.match(first, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.\d{1,16}$/, "the page solved a token for the first call");
    assert.match(second, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.\d{1,16}$/);
    assert.notEqual(first, second, "a fresh token after the error");
    const authenticate = sent.find((s) => s.path.endsWith("/v3/authenticate"));
    assert.equal(authenticate.request.captchaToken, undefined, "OTP verification itself is not guarded");
    assertNoProblems(page);
    await page.context().close();
  });

  test("a password login carries a token, and a new one after a wrong password", TEST, async () => {
    const page = await newPage(browser);
    const tokens = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/v3/authenticate")) {
        tokens.push(JSON.parse(request.postData()).request.captchaToken);
      }
    });
    await startSignIn(page, captchaDemo);
    await choose(page, "pwd");
    await page.fill("#login-id", PRIYA.id);
    await page.fill("#password-input", "wrong-password-1");
    await page.click("#password-submit");
    await page.locator("#alert:not(:empty)").waitFor();
    assert.doesNotMatch(await page.textContent("#alert"), /security check/i, "the wrong password is the error");
    await page.fill("#password-input", PRIYA.password);
    await page.click("#password-submit");
    await atConsent(page);
    await allow(page, captchaDemo);
    assert.equal(tokens.length, 2);
    assert.ok(tokens.every(Boolean), "every attempt carries a token");
    assert.notEqual(tokens[0], tokens[1]);
    assertNoProblems(page);
    await page.context().close();
  });
});

// --- wallet (QR code) ---------------------------------------------------------------------

// Last on purpose: the wallet's signed consent is reused by later logins of the same resident
// (NOCAPTURE), and the PIN test above needs Sreymom's consent page.
describe("wallet QR-code login, esignet wallet-sim as the phone", () => {
  let walletDir;
  let walletArgs;

  before(async () => {
    // The resident binds the wallet first: a fresh key, certified after the (mock) OTP.
    walletDir = mkdtempSync(path.join(tmpdir(), "esignet-wallet-"));
    walletArgs = [
      "--url", demo.provider, "--individual-id", SREYMOM.id, "--otp", OTP,
      "--state-file", path.join(walletDir, "binding.json"),
    ];
    const bound = await walletSim(binary, walletArgs);
    assert.match(bound, /bound a new ES256 key/);
  }, { timeout: 60000 });

  after(() => {
    if (walletDir) rmSync(walletDir, { recursive: true, force: true });
  });

  test("scan the QR code, the wallet links, authenticates and consents; the RP shows the profile", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    // Text without the bidi isolates the pages put around interpolated names.
    const plain = (text) => text.replace(/[\u2066-\u2069]/g, "");
    assert.equal(plain(await page.textContent("#option-wla-0")), "Sign in with eSignet wallet", "the configured wallet is offered");
    await choose(page, "wla-0");
    const qr = page.locator("#wallet-qr svg[role=img]");
    await qr.waitFor({ state: "visible" });
    const status = page.locator("#wallet-status");
    await status.filter({ hasText: "Scan the QR code" }).waitFor();
    assert.equal(await status.getAttribute("role"), "status", "the wallet status is a live region");
    assert.equal(plain(await qr.getAttribute("aria-label")), "QR code to sign in with eSignet wallet");
    const box = await qr.boundingBox();
    assert.ok(box.width >= 150 && Math.abs(box.width - box.height) < 1, `the QR code is square and large enough: ${JSON.stringify(box)}`);
    await checkPage(page, "login-wallet-qr");

    // The phone: read the deep link from the pixels of the QR code.
    const scanned = await scanQrCode(browser, qr);
    const link = new URL(scanned);
    assert.equal(`${link.protocol}//${link.host}${link.pathname}`, "io.mosip.residentapp.inji://wla-auth");
    assert.match(link.searchParams.get("linkCode"), /^[A-Za-z0-9]{15}$/);
    assert.ok(Date.parse(link.searchParams.get("linkExpireDateTime")) > Date.now(), "the link code has not expired");
    assert.equal(await page.getAttribute("#wallet-deep-link", "href"), scanned, "same-device button opens the same link");

    // The page's code request waits while the test looks at the linked state; the wallet goes on.
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route("**/linked-authorization/link-auth-code", async (route) => {
      await held;
      await route.continue();
    });
    const wallet = walletSim(binary, [...walletArgs, "--link-code", scanned, "--accept-all"]);
    wallet.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    try {
      await status.filter({ hasText: "Your wallet is connected" }).waitFor();
      assert.equal(await page.locator("#wallet-qr svg").count(), 0, "the used code is no longer shown");
      assert.equal(await page.isVisible("#wallet-deep-link"), false);
      assert.equal(await page.isVisible("#wallet-instructions"), false);
      await checkPage(page, "login-wallet-linked");
    } finally {
      release();
    }
    assert.match(await wallet, /logged in: consent CAPTURE/, "the wallet asked for and sent the consent");
    await page.waitForURL(`${demo.rp}/profile`);
    const profile = await page.locator("main").innerText();
    assert.match(profile, new RegExp(SREYMOM.name));
    assert.match(profile, /mosip:idp:acr:linked-wallet/);
    assertNoProblems(page);
    await page.context().close();
  });

  test("a wallet that scans and stops: the page ends the login at the RP (transaction_timeout)", TEST, async () => {
    // On the second provider, where a linked wallet has 3 s to authenticate.
    const page = await newPage(browser);
    await startSignIn(page, captchaDemo);
    await choose(page, "wla-0");
    const qr = page.locator("#wallet-qr svg[role=img]");
    await qr.waitFor({ state: "visible" });
    const linkCode = new URL(await scanQrCode(browser, qr)).searchParams.get("linkCode");
    // The wallet's first call only (what an app does on scanning), then nothing.
    const response = await fetch(`${captchaDemo.provider}/v1/esignet/linked-authorization/v2/link-transaction`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ requestTime: new Date().toISOString(), request: { linkCode } }),
    });
    const linked = await response.json();
    assert.deepEqual(linked.errors, [], JSON.stringify(linked));
    await page.locator("#wallet-status", { hasText: "Your wallet is connected" }).waitFor();
    // A new QR code could not be used (the wallet holds the transaction): back to the RP.
    await page.waitForURL((url) => url.origin === captchaDemo.rp && url.pathname === "/callback");
    const text = await page.locator("main").innerText();
    assert.match(text, /Sign-in failed/);
    assert.match(text, /transaction_timeout/);
    assertNoProblems(page);
    await page.context().close();
  });
});

// --- sign up from the login page, then log in with the new account -------------------------

describe("self-registration on the demo", () => {
  test("sign up from the login page, then log in with the new number and password", TEST, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo);
    await page.locator("#signup-banner").waitFor({ state: "visible" });
    await page.click("#signup-link");
    await page.waitForURL((url) => url.pathname.startsWith("/signup"));
    if (new URL(page.url()).pathname === "/signup") await page.click("#go-register");
    await page.waitForFunction(() => document.documentElement.dataset.ready === "phone");
    // A fresh number each run (the demo's data directory is new, but be safe across reruns).
    const number = "9" + String(Date.now()).slice(-8);
    await page.fill("#phone", number);
    await page.click("#send-otp");
    await page.waitForSelector("#step-otp:not([hidden])");
    await page.fill("#otp", OTP);
    await page.click("#verify-otp");
    await page.waitForSelector("#step-phone-status:not([hidden])");
    await page.click("#continue-setup");
    // The account form is the mock identity system's ui-spec (signup schema).
    await page.waitForSelector("#step-setup:not([hidden]) #form-fullName");
    assert.equal(await page.inputValue("#form-phone"), number);
    await checkPage(page, "signup-demo-setup");
    await page.fill("#form-fullName", "Asha Rao");
    await page.fill("#form-email", "asha@example.org");
    await page.fill("#form-password", "Asha#2026rao");
    await page.fill("#form-password-confirm", "Asha#2026rao");
    await page.selectOption("#form-preferredLang", "eng");
    await page.check("#form-consent");
    await page.click("#register");
    await page.waitForSelector("#step-done:not([hidden])", { timeout: 30000 });
    await checkPage(page, "signup-demo-done");

    // "Log in" returns to the same relying party's login, where the new account signs in.
    await page.click("#login");
    await page.waitForURL((url) => url.pathname === "/login");
    await page.locator("#sign-in-options").waitFor();
    await choose(page, "pwd");
    await page.fill("#login-id", number);
    await page.fill("#password-input", "Asha#2026rao");
    await page.click("#password-submit");
    // Back on the same login transaction: consent, then the relying party's profile page.
    await atConsent(page);
    const profile = await allow(page, demo);
    assert.match(profile, /Asha Rao/);
    assertNoProblems(page);
    await page.context().close();
  });
});

// --- video eKYC from the claim-details step ------------------------------------------------

describe("video eKYC on the demo", () => {
  test("verified claims the resident lacks: mock video eKYC, then the profile shows them", { timeout: 150000 }, async () => {
    const page = await newPage(browser);
    await startSignIn(page, demo, { button: "Sign in with verified details" });
    await choose(page, "otp");
    await otpLogin(page, PRIYA);
    // Priya has no verified name: claim-details offers the verification.
    await page.waitForURL((url) => url.pathname === "/claim-details");
    await page.locator("#claims-verify").waitFor({ state: "visible" });
    await checkPage(page, "ekyc-claim-details");
    await page.click("#claims-verify");
    // The signup client's own login (IDT factor) runs by itself; back at the verification page.
    await page.waitForFunction(() => document.documentElement.dataset.ready === "terms", null, { timeout: 30000 });
    assert.equal(new URL(page.url()).pathname, "/signup/identity-verification");
    await checkPage(page, "ekyc-terms");
    await page.check("#terms-agree");
    await page.click("#terms-form button[type=submit]");
    await page.waitForFunction(() => document.documentElement.dataset.ready === "preview");
    await page.click("#start-verification");
    // Live steps over the WebSocket with the fake camera's frames, then the result.
    await page.waitForFunction(() => ["done", "failed"].includes(document.documentElement.dataset.ready), null, { timeout: 90000 });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.ready), "done",
      `${await page.locator("main").innerText()}\n--- esignet demo output ---\n${demo.output().slice(-4000)}`);
    await checkPage(page, "ekyc-done");
    await page.click("#return");
    await atConsent(page);
    const profile = await allow(page, demo);
    assert.match(profile, new RegExp(PRIYA.name));
    assert.match(profile, /XYZ TF/, "the verified claims show their trust framework");
    assertNoProblems(page);
    await page.context().close();
  });
});
