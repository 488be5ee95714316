// The signup pages in Chromium, driven by crates/esignet-signup-ui/tests/browser.rs, which
// serves them at SIGNUP_BASE next to a stand-in for the /v1/signup API (fixed OTP 111111,
// blocked number +85511111111) and checks afterwards what the pages sent.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createRequire } from "node:module";
import { assertNoProblems, launch, newPage, screenshot } from "../lib/browser.js";

const require = createRequire(import.meta.url);
const AXE_SOURCE = require("axe-core").source;
const BASE = process.env.SIGNUP_BASE;

let browser;
before(async () => {
  assert.ok(BASE, "SIGNUP_BASE is set by the cargo test");
  browser = await launch();
});
after(async () => {
  if (browser) await browser.close();
});

/** axe-core on the page as it is now: zero violations of any impact. */
async function axe(page, name) {
  await screenshot(page, `signup-${name}`);
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
  const found = results.violations.map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(found, [], `axe on ${name}`);
}

const base64url = (text) => Buffer.from(text).toString("base64url");
const AUTHORIZE = "client_id=rp-1&redirect_uri=https%3A%2F%2Frp.example%2Fcb&scope=openid&response_type=code&state=st-9&nonce=n-old&ui_locales=en";

test("register a new phone number end to end", async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/signup#${base64url(AUTHORIZE)}`);
  await axe(page, "landing");
  assert.equal(await page.getAttribute("#go-register", "href"), `/signup/register#${base64url(AUTHORIZE)}`);
  await page.click("#go-register");
  await page.waitForFunction(() => document.documentElement.dataset.ready === "phone");
  assert.equal(await page.textContent("#phone-prefix"), "+855");
  // Client-side checks first: leading zero, then a good number.
  await page.fill("#phone", "012345678");
  await page.click("#send-otp");
  assert.match(await page.textContent("#phone-error"), /leading zero/);
  await axe(page, "register-phone-error");
  await page.fill("#phone", "12345678");
  await page.click("#send-otp");
  await page.waitForSelector("#step-otp:not([hidden])");
  assert.match(await page.textContent("#otp-sent-to"), /\+85512345678/);
  assert.match(await page.textContent("#resend-timer"), /new code in/);
  assert.equal(await page.getAttribute("#resend-otp", "aria-disabled"), "true");
  assert.match(await page.textContent("#otp-attempts"), /2/);
  await page.fill("#otp", "000000");
  await page.click("#verify-otp");
  await page.waitForFunction(() => document.getElementById("otp-alert").textContent !== "");
  assert.equal(await page.textContent("#otp-alert"), "The code is not correct.");
  await axe(page, "register-otp-wrong");
  await page.fill("#otp", "111111");
  await page.click("#verify-otp");
  await page.waitForSelector("#step-phone-status:not([hidden])");
  await axe(page, "register-phone-verified");
  await page.click("#continue-setup");
  await page.waitForSelector("#step-setup:not([hidden]) #form-fullName");
  assert.equal(await page.inputValue("#form-phone"), "+85512345678");
  assert.equal(await page.getAttribute("#form-phone", "readonly"), "");
  await axe(page, "register-setup");
  // Validation messages come from the spec.
  await page.fill("#form-fullName", "Sok 123");
  await page.click("#register");
  assert.equal(await page.textContent("#form-fullName-error"), "Letters only, please");
  assert.equal(await page.evaluate(() => document.activeElement.id), "form-fullName");
  await axe(page, "register-setup-errors");
  await page.fill("#form-fullName", "Sok Dara");
  await page.fill("#form-dob", "1990-01-31");
  await page.selectOption("#form-gender", "M");
  await page.fill("#form-password", "Secret#2024a");
  await page.fill("#form-password-confirm", "Secret#2024b");
  await page.check("#form-consent");
  await page.click("#register");
  assert.equal(await page.textContent("#form-password-confirm-error"), "The two passwords do not match.");
  await page.fill("#form-password-confirm", "Secret#2024a");
  await page.click("#register");
  await page.waitForSelector("#step-done:not([hidden])");
  await axe(page, "register-done");
  const login = new URL(await page.getAttribute("#login", "href"), BASE);
  assert.equal(login.pathname, "/authorize");
  assert.equal(login.searchParams.get("client_id"), "rp-1");
  assert.equal(login.searchParams.get("redirect_uri"), "https://rp.example/cb");
  assert.equal(login.searchParams.get("state"), "st-9");
  assert.equal(login.searchParams.get("ui_locales"), "en");
  const nonce = login.searchParams.get("nonce");
  assert.ok(nonce && nonce !== "n-old" && nonce.length >= 32, nonce);
  assertNoProblems(page);
  await page.context().close();
});

test("a blocked number and too many wrong codes are explained", async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/signup/register`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "phone");
  await page.fill("#phone", "11111111");
  await page.click("#send-otp");
  await page.waitForFunction(() => document.getElementById("phone-alert").textContent !== "");
  assert.match(await page.textContent("#phone-alert"), /blocked/);
  await axe(page, "register-blocked");
  await page.fill("#phone", "22222222");
  await page.click("#send-otp");
  await page.waitForSelector("#step-otp:not([hidden])");
  for (const expected of ["The code is not correct.", "The code is not correct.", "The code is not correct.", "Too many wrong codes. Ask for a new code."]) {
    await page.fill("#otp", "999999");
    await page.click("#verify-otp");
    await page.waitForFunction((text) => document.getElementById("otp-alert").textContent === text, expected);
  }
  await axe(page, "register-too-many");
  await page.context().close();
});

test("reset a password with the full name as knowledge check", async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/signup/reset-password#${base64url(AUTHORIZE)}`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "user");
  await axe(page, "reset-user");
  await page.fill("#username", "87654321");
  await page.click("#send-otp");
  assert.match(await page.textContent("#fullname-error"), /full name/);
  await page.fill("#fullname", "Chan Sopheap");
  await page.click("#send-otp");
  await page.waitForSelector("#step-otp:not([hidden])");
  await axe(page, "reset-otp");
  await page.fill("#otp", "111111");
  await page.click("#verify-otp");
  await page.waitForSelector("#step-password:not([hidden])");
  await page.fill("#form-password", "weak");
  await page.click("#reset");
  const rules = (await page.textContent("#form-password-error")).replace(/[\u2068\u2069]/g, "");
  assert.match(rules, /^8 to 20 characters/);
  await axe(page, "reset-password-errors");
  await page.fill("#form-password", "NewSecret#99");
  await page.fill("#form-password-confirm", "NewSecret#99");
  await page.click("#reset");
  await page.waitForSelector("#step-done:not([hidden])");
  await axe(page, "reset-done");
  const login = new URL(await page.getAttribute("#login", "href"), BASE);
  assert.equal(login.searchParams.get("client_id"), "rp-1");
  assert.notEqual(login.searchParams.get("nonce"), "n-old");
  assertNoProblems(page);
  await page.context().close();
});

test("Arabic is right to left, and the fragment's language is followed", async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/signup/register?ui_locales=ar`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "phone");
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  assert.equal(await page.textContent("#phone-heading"), "سجّل برقم هاتفك المحمول");
  await page.click("#send-otp");
  assert.equal(await page.textContent("#phone-error"), "أدخل رقم هاتفك المحمول.");
  await axe(page, "register-arabic");
  // A fragment asking for French switches the page to French, keeping the fragment.
  const fragment = base64url(AUTHORIZE.replace("ui_locales=en", "ui_locales=fr"));
  await page.context().clearCookies();
  await page.goto(`${BASE}/signup#${fragment}`);
  await page.waitForFunction(() => document.documentElement.lang === "fr");
  assert.ok(page.url().endsWith(`?ui_locales=fr#${fragment}`), page.url());
  await page.context().close();
});

test("keyboard only: skip link, the phone form and the focus on each step", async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/signup/register`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "phone");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "skip-link");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "main");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "phone");
  await page.keyboard.type("33333333");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#step-otp:not([hidden])");
  assert.equal(await page.evaluate(() => document.activeElement.id), "otp-heading");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "otp");
  await page.keyboard.type("111111");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#step-phone-status:not([hidden])");
  assert.equal(await page.evaluate(() => document.activeElement.id), "phone-status-heading");
  await page.context().close();
});

test("something went wrong shows the status and keeps the way back", async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/signup/something-went-wrong?status=503#${base64url(AUTHORIZE)}`);
  await page.waitForFunction(() => document.documentElement.dataset.ready);
  assert.equal(await page.textContent("#wrong-status"), "The server answered with status \u2068503\u2069.");
  assert.equal(await page.getAttribute("#go-home", "href"), `/signup#${base64url(AUTHORIZE)}`);
  await axe(page, "something-went-wrong");
  assertNoProblems(page);
  await page.context().close();
});
