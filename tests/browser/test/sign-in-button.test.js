// The relying parties' "Sign in with eSignet" button (sdk/sign-in-button): its URL building,
// PKCE and DPoP checked in Node against node:crypto (an independent implementation), then in
// a real browser on the demo relying party, which signs in through it, in all seven languages.

import assert from "node:assert/strict";
import { createHash, createPublicKey, verify } from "node:crypto";
import { after, before, describe, test } from "node:test";

import {
  buildAuthorizeUrl, createDpopKey, createDpopProof, createPkce, jwkThumbprint, labels,
  LANGUAGES, pickLanguage, startLogin,
} from "../../../sdk/sign-in-button/sign-in-button.js";
import { assertNoProblems, checkPage, launch, newPage } from "../lib/browser.js";
import { esignetBinary, startDemo } from "../lib/servers.js";

const TEST = { timeout: 90000 };

function b64urlDecode(text) {
  return Buffer.from(text, "base64url");
}

function sha256b64url(text) {
  return createHash("sha256").update(text).digest("base64url");
}

describe("the button module", () => {
  test("picks the resident's language, else English", () => {
    assert.equal(pickLanguage("ar-MA"), "ar");
    assert.equal(pickLanguage("khm"), "km");
    assert.equal(pickLanguage("xx tam en"), "ta");
    assert.equal(pickLanguage("de"), "en");
    assert.equal(pickLanguage(undefined), "en");
    assert.deepEqual(LANGUAGES, ["en", "fr", "ar", "hi", "kn", "ta", "km"]);
    for (const language of LANGUAGES) {
      const texts = labels(language);
      assert.ok(texts.signIn.includes("eSignet"), `${language} names eSignet`);
      assert.ok(texts.busy && texts.failed, `${language} has every text`);
    }
  });

  test("builds the authorize URL and refuses unknown parameters", () => {
    const url = new URL(buildAuthorizeUrl("https://id.example.org/", {
      client_id: "portal", scope: "openid profile", claims: { userinfo: { name: { essential: true } } },
      nonce: "", state: undefined,
    }));
    assert.equal(url.origin + url.pathname, "https://id.example.org/authorize");
    assert.equal(url.searchParams.get("scope"), "openid profile");
    assert.deepEqual(JSON.parse(url.searchParams.get("claims")), { userinfo: { name: { essential: true } } });
    assert.equal(url.searchParams.has("nonce"), false, "empty values are not sent");
    assert.throws(() => buildAuthorizeUrl("https://id.example.org", { client_secret: "x" }), /unknown authorize parameter/);
  });

  test("PKCE: the challenge is the SHA-256 of the verifier", async () => {
    const pkce = await createPkce();
    assert.match(pkce.verifier, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(pkce.challenge, sha256b64url(pkce.verifier));
    assert.equal(pkce.method, "S256");
  });

  test("DPoP: the proof verifies with node:crypto and the thumbprint is RFC 7638's", async () => {
    const key = await createDpopKey();
    const members = JSON.stringify({ crv: "P-256", kty: "EC", x: key.publicJwk.x, y: key.publicJwk.y });
    assert.equal(key.jkt, sha256b64url(members));
    assert.equal(await jwkThumbprint(key.publicJwk), key.jkt);
    const proof = await createDpopProof(key, "POST", "https://id.example.org/token", { nonce: "n-1", accessToken: "at" });
    const [header, payload, signature] = proof.split(".");
    const headerJson = JSON.parse(b64urlDecode(header));
    const claims = JSON.parse(b64urlDecode(payload));
    assert.equal(headerJson.typ, "dpop+jwt");
    assert.equal(headerJson.alg, "ES256");
    assert.deepEqual(claims.htm, "POST");
    assert.equal(claims.nonce, "n-1");
    assert.equal(claims.ath, sha256b64url("at"));
    const publicKey = createPublicKey({ key: headerJson.jwk, format: "jwk" });
    const valid = verify("sha256", Buffer.from(`${header}.${payload}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, b64urlDecode(signature));
    assert.ok(valid, "the ES256 signature verifies");
  });

  test("authorize mode generates state, nonce and PKCE and hands the secrets over", async () => {
    let secrets;
    let dpopKey;
    const url = new URL(await startLogin({
      issuer: "https://id.example.org",
      authorize: { client_id: "portal", redirect_uri: "https://portal.example.org/cb" },
      dpop: true,
      onSecrets: (given) => { secrets = given; },
      onDpopKey: (key) => { dpopKey = key; },
    }));
    const q = url.searchParams;
    assert.equal(q.get("response_type"), "code");
    assert.equal(q.get("scope"), "openid");
    assert.equal(q.get("state"), secrets.state);
    assert.equal(q.get("nonce"), secrets.nonce);
    assert.equal(q.get("code_challenge"), sha256b64url(secrets.codeVerifier));
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.equal(q.get("dpop_jkt"), dpopKey.jkt);
  });

  test("prepare mode: a URL, a request_uri, or a clear failure", async () => {
    assert.equal(await startLogin({ prepare: async () => "https://id.example.org/authorize?x=1" }), "https://id.example.org/authorize?x=1");
    const par = new URL(await startLogin({ issuer: "https://id.example.org", prepare: async () => ({ requestUri: "urn:ietf:params:oauth:request_uri:abc", clientId: "portal" }) }));
    assert.equal(par.searchParams.get("request_uri"), "urn:ietf:params:oauth:request_uri:abc");
    assert.equal(par.searchParams.get("client_id"), "portal");
    await assert.rejects(startLogin({ prepare: async () => ({}) }), /neither a URL nor a requestUri/);
  });
});

describe("the button in a browser", () => {
  let browser;
  let demo;

  before(async () => {
    const binary = await esignetBinary();
    [browser, demo] = await Promise.all([launch(), startDemo(binary)]);
  }, { timeout: 240000 });

  after(async () => {
    await Promise.allSettled([browser?.close(), demo?.close()]);
  });

  test("the provider serves it to other origins", async () => {
    const response = await fetch(`${demo.provider}/sdk/sign-in-button.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type"), /^text\/javascript/);
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    assert.match(await response.text(), /export function renderSignInButton/);
  });

  test("the demo relying party signs in through it", TEST, async () => {
    const page = await newPage(browser);
    await page.goto(`${demo.rp}/`);
    const buttons = page.locator("#esignet-sign-in button.esignet-sign-in");
    await buttons.first().waitFor();
    assert.equal(await buttons.count(), 3, "every sign-in variant (plain, PAR + DPoP, verified details) is rendered by the button");
    assert.equal(await page.locator("#esignet-sign-in form").count(), 0, "the fallback forms are replaced");
    await checkPage(page, "rp-sign-in-button");
    await page.getByRole("button", { name: "Sign in with eSignet", exact: true }).click();
    await page.waitForURL((url) => url.pathname === "/login");
    await page.locator("#sign-in-options").waitFor();
    assertNoProblems(page);
    await page.context().close();
  });

  test("it speaks seven languages, Arabic right to left, and reports a failed start", TEST, async () => {
    const page = await newPage(browser);
    await page.goto(`${demo.rp}/`);
    await page.locator("button.esignet-sign-in").first().waitFor();
    const rendered = await page.evaluate(async (url) => {
      const module = await import(url);
      const out = {};
      for (const language of module.LANGUAGES) {
        const slot = document.createElement("div");
        document.body.append(slot);
        const button = module.renderSignInButton(slot, { language, prepare: async () => { throw new Error("down"); } });
        out[language] = { text: button.textContent, dir: button.dir, lang: button.lang };
        if (language === "ar") {
          const alert = slot.querySelector("[role=alert]");
          const shown = new Promise((resolve) => {
            new MutationObserver(() => { if (!alert.hidden) resolve(); }).observe(alert, { attributes: true });
          });
          button.click();
          await shown;
          out.arError = { hidden: alert.hidden, text: alert.textContent, busy: button.getAttribute("aria-busy") };
        }
      }
      return out;
    }, `${demo.provider}/sdk/sign-in-button.js`);
    assert.equal(rendered.ar.dir, "rtl");
    assert.equal(rendered.en.dir, "ltr");
    assert.equal(rendered.km.text, "ចូលដោយប្រើ eSignet");
    assert.equal(new Set(Object.values(rendered).map((r) => r.text)).size, 8, "seven distinct labels plus the error");
    assert.equal(rendered.arError.hidden, false, "the failure is announced");
    assert.match(rendered.arError.text, /تعذّر/);
    assert.equal(rendered.arError.busy, null, "the button is usable again");
    await checkPage(page, "sign-in-button-languages");
    await page.context().close();
  });
});
