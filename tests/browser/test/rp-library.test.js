// An independent, certified relying-party library (oauth4webapi) against the real provider:
// discovery, the plain login (PKCE, private_key_jwt, signed userinfo), the FAPI 2.0 login
// (PAR + DPoP), token introspection, revocation and RP-initiated logout, plus the standard
// error answers it must be able to read (invalid_client, invalid_scope). The resident signs in
// in a real browser on our login pages; everything the RP does goes through the library.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";

import * as oauth from "oauth4webapi";

import { checkPage, launch, newPage } from "../lib/browser.js";
import { esignetBinary, startDemo } from "../lib/servers.js";

const TEST = { timeout: 90000 };
const ADMIN_TOKEN = "rp-library-admin-token-0123456789-abcdefghij";
const RP = "https://rp.example";
const CALLBACK = `${RP}/o4w/callback`;
const SIGNED_OUT = `${RP}/o4w/signed-out`;
const RESIDENT = { id: "3519847260", email: "priya.ramaswamy@example.org" };
const OTP = "111111";
const insecure = { [oauth.allowInsecureRequests]: true };

let binary;
let browser;
let demo;
let as;

/** eSignet's requestTime: UTC with milliseconds. */
function requestTime() {
  return new Date().toISOString();
}

/** Registers a client through the admin API with a fresh RS256 key; returns its key pair. */
async function registerClient(clientId, additionalConfig) {
  const keys = await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true, ["sign", "verify"],
  );
  const publicKey = await crypto.subtle.exportKey("jwk", keys.publicKey);
  const answer = await fetch(`${demo.provider}/v1/esignet/client-mgmt/client`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({
      requestTime: requestTime(),
      request: {
        clientId, clientName: `oauth4webapi ${clientId}`, clientNameLangMap: { eng: "oauth4webapi" },
        publicKey: { kty: publicKey.kty, n: publicKey.n, e: publicKey.e },
        relyingPartyId: `${clientId}-rp`, userClaims: ["name", "email"],
        authContextRefs: ["mosip:idp:acr:generated-code"], logoUri: `${RP}/logo.png`,
        redirectUris: [CALLBACK], grantTypes: ["authorization_code"], clientAuthMethods: ["private_key_jwt"],
        additionalConfig,
      },
    }),
  }).then((response) => response.json());
  assert.deepEqual(answer.errors, [], JSON.stringify(answer));
  return keys;
}

/**
 * Runs the resident's side in the browser: opens `url`, signs in by OTP, allows, and returns
 * the URL the provider redirected to (intercepted: the RP host does not exist).
 */
async function residentSignsIn(url) {
  const page = await newPage(browser);
  let landed;
  await page.route(`${RP}/**`, async (route) => {
    landed = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: "text/plain", body: "relying party" });
  });
  try {
    await page.goto(url.href);
    await page.locator("#login-id").waitFor({ state: "visible" });
    await page.fill("#login-id", RESIDENT.id);
    await page.click("#get-otp");
    await page.locator("#otp-input").waitFor({ state: "visible" });
    await page.fill("#otp-input", OTP);
    await page.click("#verify-otp");
    await page.waitForURL((current) => current.pathname === "/consent" || current.href.startsWith(RP));
    if (new URL(page.url()).pathname === "/consent") {
      await page.locator("#consent-form").waitFor({ state: "visible" });
      await page.click("#consent-allow");
      await page.waitForURL((current) => current.href.startsWith(RP));
    }
    assert.ok(landed, "the provider redirected to the relying party");
    return landed;
  } finally {
    await page.close();
  }
}

/** Where the provider's answer to `url` sends the browser (its `303 See Other`). */
async function redirectOf(url) {
  const response = await fetch(url, { redirect: "manual" });
  assert.equal(response.status, 303);
  return new URL(response.headers.get("location"));
}

/** RFC 7638 thumbprint of a public EC key, computed here (not by the library or the server). */
async function thumbprint(publicKey) {
  const jwk = await crypto.subtle.exportKey("jwk", publicKey);
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}

/** The standard error a library call threw (`ResponseBodyError`). */
async function standardError(promise) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) return { error: error.error, description: error.error_description };
    throw error;
  }
  assert.fail("the call succeeded");
}

before(async () => {
  binary = await esignetBinary();
  [browser, demo] = await Promise.all([launch(), startDemo(binary, { ESIGNET_ADMIN__STATIC_TOKEN: ADMIN_TOKEN })]);
  const issuer = new URL(demo.provider);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...insecure }));
});

after(async () => {
  await Promise.allSettled([browser?.close(), demo?.close()]);
});

describe("oauth4webapi as the relying party", () => {
  test("discovery advertises what the library needs", TEST, () => {
    assert.equal(as.issuer, demo.provider);
    for (const endpoint of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
      "pushed_authorization_request_endpoint", "introspection_endpoint", "revocation_endpoint", "end_session_endpoint"]) {
      assert.match(as[endpoint], /^http:\/\/127\.0\.0\.1:\d+\//, endpoint);
    }
    assert.deepEqual(as.code_challenge_methods_supported, ["S256"]);
    assert.equal(as.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(as.introspection_endpoint_auth_methods_supported, ["private_key_jwt"]);
  });

  test("plain login, signed userinfo, introspection, revocation and logout", TEST, async () => {
    const keys = await registerClient("o4w-plain", { post_logout_redirect_uris: [SIGNED_OUT] });
    const client = {
      client_id: "o4w-plain", token_endpoint_auth_method: "private_key_jwt",
      id_token_signed_response_alg: "RS256", userinfo_signed_response_alg: as.userinfo_signing_alg_values_supported[0],
    };
    const clientAuth = oauth.PrivateKeyJwt(keys.privateKey);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint);
    for (const [name, value] of Object.entries({
      client_id: client.client_id, redirect_uri: CALLBACK, response_type: "code", scope: "openid email",
      state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
      acr_values: "mosip:idp:acr:generated-code", claims: JSON.stringify({ userinfo: { email: { essential: true } } }),
    })) url.searchParams.set(name, value);

    // RFC 9207: the library checks `iss` in the authorization response.
    const callback = oauth.validateAuthResponse(as, client, await residentSignsIn(url), state);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callback, CALLBACK, verifier, insecure),
      { expectedNonce: nonce, requireIdToken: true });
    assert.equal(tokens.token_type, "bearer");
    const idClaims = oauth.getValidatedIdTokenClaims(tokens);
    assert.equal(idClaims.acr, "mosip:idp:acr:generated-code");

    const userinfoResponse = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
    const userinfo = await oauth.processUserInfoResponse(as, client, idClaims.sub, userinfoResponse);
    assert.equal(userinfo.email, RESIDENT.email);
    // The JWT's signature, checked by the library against the published JWKS.
    await oauth.validateApplicationLevelSignature(as, userinfoResponse, insecure);

    const active = await oauth.processIntrospectionResponse(as, client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure));
    assert.equal(active.active, true);
    assert.equal(active.client_id, "o4w-plain");
    assert.equal(active.sub, idClaims.sub);
    assert.equal(active.token_type, "Bearer");

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, tokens.access_token, insecure));
    const revoked = await oauth.processIntrospectionResponse(as, client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure));
    assert.equal(revoked.active, false);
    await assert.rejects(
      oauth.processUserInfoResponse(as, client, idClaims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, insecure)),
      (error) => error instanceof oauth.WWWAuthenticateChallengeError && error.cause[0].parameters.error === "invalid_token",
    );

    // RP-initiated logout: back to the registered URI with the state...
    const logout = new URL(as.end_session_endpoint);
    logout.searchParams.set("id_token_hint", tokens.id_token);
    logout.searchParams.set("post_logout_redirect_uri", SIGNED_OUT);
    logout.searchParams.set("state", "bye");
    assert.equal((await redirectOf(logout)).href, `${SIGNED_OUT}?state=bye`);
    // ...never to an unregistered one...
    logout.searchParams.set("post_logout_redirect_uri", "https://evil.example/");
    const refused = await redirectOf(logout);
    assert.equal(refused.pathname, "/error");
    assert.equal(refused.searchParams.get("error"), "invalid_post_logout_redirect_uri");
    // ...and, without one, to the provider's signed-out page in the resident's language.
    const page = await newPage(browser);
    try {
      const own = new URL(as.end_session_endpoint);
      own.searchParams.set("id_token_hint", tokens.id_token);
      own.searchParams.set("ui_locales", "ar");
      await page.goto(own.href);
      await page.waitForURL((current) => current.pathname === "/signed-out");
      assert.equal(await page.getAttribute("html", "dir"), "rtl");
      assert.equal((await page.textContent("#page-heading")).trim(), "لقد سجّلت الخروج");
      await checkPage(page, "signed-out-ar");
    } finally {
      await page.close();
    }
  });

  test("FAPI 2.0: PAR and DPoP-bound tokens, introspected with cnf.jkt", TEST, async () => {
    const keys = await registerClient("o4w-fapi", {
      require_pushed_authorization_requests: true, dpop_bound_access_tokens: true, require_pkce: true,
    });
    const client = {
      client_id: "o4w-fapi", token_endpoint_auth_method: "private_key_jwt",
      userinfo_signed_response_alg: as.userinfo_signing_alg_values_supported[0],
    };
    const clientAuth = oauth.PrivateKeyJwt(keys.privateKey);
    const dpopKeys = await oauth.generateKeyPair("ES256");
    const dpop = oauth.DPoP(client, dpopKeys);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const parameters = {
      redirect_uri: CALLBACK, response_type: "code", scope: "openid email", state, nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
      claims: JSON.stringify({ userinfo: { email: { essential: true } } }),
    };
    const pushed = await oauth.processPushedAuthorizationResponse(as, client,
      await oauth.pushedAuthorizationRequest(as, client, clientAuth, parameters, { DPoP: dpop, ...insecure }));
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set("client_id", client.client_id);
    url.searchParams.set("request_uri", pushed.request_uri);
    const callback = oauth.validateAuthResponse(as, client, await residentSignsIn(url), state);

    // The PAR answer's DPoP-Nonce is reused by the library: no use_dpop_nonce round trip.
    const tokens = await oauth.processAuthorizationCodeResponse(as, client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callback, CALLBACK, verifier, { DPoP: dpop, ...insecure }),
      { expectedNonce: nonce, requireIdToken: true });
    assert.equal(tokens.token_type, "dpop");
    const idClaims = oauth.getValidatedIdTokenClaims(tokens);

    let userinfoResponse = await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP: dpop, ...insecure });
    let userinfo;
    try {
      userinfo = await oauth.processUserInfoResponse(as, client, idClaims.sub, userinfoResponse);
    } catch (error) {
      // A server nonce challenge is answered once, as RFC 9449 §9 allows.
      if (!oauth.isDPoPNonceError(error)) throw error;
      userinfoResponse = await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP: dpop, ...insecure });
      userinfo = await oauth.processUserInfoResponse(as, client, idClaims.sub, userinfoResponse);
    }
    assert.equal(userinfo.email, RESIDENT.email);

    const active = await oauth.processIntrospectionResponse(as, client,
      await oauth.introspectionRequest(as, client, clientAuth, tokens.access_token, insecure));
    assert.equal(active.active, true);
    assert.equal(active.token_type, "DPoP");
    assert.deepEqual(active.cnf, { jkt: await thumbprint(dpopKeys.publicKey) });
  });

  test("the standard errors the library reads", TEST, async () => {
    const keys = await registerClient("o4w-errors", {});
    const client = { client_id: "o4w-errors", token_endpoint_auth_method: "private_key_jwt" };
    const clientAuth = oauth.PrivateKeyJwt(keys.privateKey);
    const base = {
      redirect_uri: CALLBACK, response_type: "code", state: "s", nonce: "n",
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: "S256",
    };
    // Only scopes that do not exist (no openid), and an essential acr nobody offers, fail at PAR.
    assert.deepEqual(
      await standardError(oauth.pushedAuthorizationRequest(as, client, clientAuth, { ...base, scope: "no_such_scope" }, insecure)
        .then((response) => oauth.processPushedAuthorizationResponse(as, client, response))),
      { error: "invalid_scope", description: "invalid_scope" },
    );
    assert.deepEqual(
      await standardError(oauth.pushedAuthorizationRequest(as, client, clientAuth, {
        ...base, scope: "openid", claims: JSON.stringify({ id_token: { acr: { essential: true, values: ["urn:no-such-acr"] } } }),
      }, insecure).then((response) => oauth.processPushedAuthorizationResponse(as, client, response))),
      { error: "invalid_request", description: "invalid_acr" },
    );
    // An unknown client, at PAR and at the token endpoint.
    const stranger = { client_id: "o4w-no-such-client", token_endpoint_auth_method: "private_key_jwt" };
    assert.deepEqual(
      await standardError(oauth.pushedAuthorizationRequest(as, stranger, clientAuth, { ...base, scope: "openid" }, insecure)
        .then((response) => oauth.processPushedAuthorizationResponse(as, stranger, response))),
      { error: "invalid_client", description: "invalid_client_id" },
    );
    const forged = new URL(CALLBACK);
    forged.searchParams.set("code", "no-such-code");
    forged.searchParams.set("iss", as.issuer);
    const fakeCallback = oauth.validateAuthResponse(as, stranger, forged, oauth.skipStateCheck);
    assert.deepEqual(
      await standardError(oauth.authorizationCodeGrantRequest(as, stranger, clientAuth, fakeCallback, CALLBACK, oauth.generateRandomCodeVerifier(), insecure)
        .then((response) => oauth.processAuthorizationCodeResponse(as, stranger, response))),
      { error: "invalid_client", description: "invalid_client_id" },
    );
    // The same client with a code that was never issued.
    assert.deepEqual(
      await standardError(oauth.authorizationCodeGrantRequest(as, client, clientAuth, fakeCallback, CALLBACK, oauth.generateRandomCodeVerifier(), insecure)
        .then((response) => oauth.processAuthorizationCodeResponse(as, client, response))),
      { error: "invalid_grant", description: "invalid_grant" },
    );
  });
});
