// Wallet (QR) login, eSignet's linked authorization: link-code → QR of the wallet's deep link →
// link-status (long poll) → link-auth-code → back to the relying party. The code refreshes
// before it expires, a limited number of times. Once a wallet has linked, the transaction is
// the wallet's: the QR code goes away, and a login the wallet does not finish ends at the
// relying party (`transaction_timeout`), as a new QR code could not be used any more.

import { $, ApiError, call, clone, leaveForStatusPage, redirectWithCode, redirectWithError, t } from "./common.js";
import { qrSvg } from "./qr.js";

const DEFAULT_DEEP_LINK = "io.mosip.residentapp.inji://wla-auth?linkCode=LINK_CODE&linkExpireDateTime=LINK_EXPIRE_DT";
const LONG_POLL_PAUSE_MS = 1000;

/** Whether a long poll's failure is worth repeating: its wait ran out, or an HTTP status (a proxy cutting the wait). */
function retryable(error) {
  return error instanceof ApiError && (error.code === "response_timeout" || error.code === "http_error");
}

/** The wallet's deep link for a link code. */
export function deepLink(wallet, linkCode, expireDateTime) {
  const template = (wallet && wallet["wallet.deep-link-uri"]) || DEFAULT_DEEP_LINK;
  return template.replace("LINK_CODE", encodeURIComponent(linkCode)).replace("LINK_EXPIRE_DT", encodeURIComponent(expireDateTime));
}

/** Wallet panel; returns a cleanup that stops polling. */
export function walletPanel(flow, container, wallet) {
  const session = flow.session;
  const configs = session.configs;
  container.append(clone("tpl-wallet"));
  const name = (wallet && wallet["wallet.name"]) || t("js.login.wallet_default_name");
  const qr = $("wallet-qr");
  const status = $("wallet-status");
  const refresh = $("wallet-refresh");
  const link = $("wallet-deep-link");
  const download = wallet && wallet["wallet.download-uri"];
  if (typeof download === "string" && /^https?:\/\//i.test(download)) {
    $("wallet-download").href = download;
    $("wallet-download").hidden = false;
  }
  const bufferSecs = Number(configs["wallet.qr-code-buffer-in-secs"]) || 10;
  const refreshLimit = Number(configs["wallet.qr-code.auto-refresh-limit"]) || 3;
  const linkedWindowSecs = Number(configs["linked-transaction-expire-in-secs"]) || 240;
  let generation = 0;
  let refreshes = 0;
  let refreshTimer = null;

  const stop = () => {
    generation++;
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = null;
  };
  // `wallet-status` is a polite live region itself: announcing in `#status` too would say it twice.
  const say = (message) => {
    status.textContent = message;
  };
  const hideCode = () => {
    qr.replaceChildren();
    link.hidden = true;
  };
  const unavailable = () => {
    stop();
    hideCode();
    say(t("js.wallet.unavailable"));
  };
  const expired = () => {
    stop();
    hideCode();
    refresh.hidden = false;
    say(t("js.wallet.expired"));
  };

  const poll = async (mine, linkCode, expiresAt) => {
    // link-status answers when the wallet links the code (or times out); repeat until expiry.
    while (mine === generation && Date.now() < expiresAt) {
      let answer = null;
      try {
        answer = await call("POST", "/linked-authorization/link-status", { transactionId: session.details.transactionId, linkCode }, session);
      } catch (error) {
        if (mine !== generation) return;
        if (error instanceof ApiError && error.code === "network_error") return leaveForStatusPage(error);
        // The code is no longer usable (expired, replaced): offer a new one.
        if (!retryable(error)) return expired();
        await new Promise((resolve) => setTimeout(resolve, LONG_POLL_PAUSE_MS));
        continue;
      }
      if (mine !== generation) return;
      if (answer && answer.linkStatus === "LINKED") return awaitCode(mine, linkCode);
    }
  };

  const awaitCode = async (mine, linkCode) => {
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = null;
    // The code is used: showing it still would only invite a second scan that must fail.
    hideCode();
    $("wallet-instructions").hidden = true;
    say(t("js.wallet.linked"));
    const deadline = Date.now() + linkedWindowSecs * 1000;
    while (mine === generation && Date.now() < deadline) {
      try {
        const result = await call("POST", "/linked-authorization/link-auth-code", { transactionId: session.details.transactionId, linkedCode: linkCode }, session);
        if (mine !== generation) return;
        stop();
        return redirectWithCode(session, result);
      } catch (error) {
        if (mine !== generation) return;
        if (error instanceof ApiError && error.code === "network_error") return leaveForStatusPage(error);
        if (!retryable(error)) {
          // The wallet's part ended without a consent (`invalid_link_code`), or the call failed.
          stop();
          return redirectWithError(session, error.code === "invalid_link_code" ? "transaction_timeout" : error.code);
        }
        await new Promise((resolve) => setTimeout(resolve, LONG_POLL_PAUSE_MS));
      }
    }
    if (mine !== generation) return;
    stop();
    redirectWithError(session, "transaction_timeout");
  };

  const start = async () => {
    stop();
    const mine = generation;
    refresh.hidden = true;
    say(t("js.wallet.preparing"));
    let result;
    try {
      result = await call("POST", "/linked-authorization/link-code", { transactionId: session.details.transactionId }, session);
    } catch (error) {
      if (mine !== generation) return;
      // The linked-authorization endpoints may not be deployed: say so, keep the other options.
      if (error instanceof ApiError && error.code === "network_error") return leaveForStatusPage(error);
      return unavailable();
    }
    if (mine !== generation) return;
    const expiresAt = Date.parse(result.expireDateTime);
    const lifetimeMs = expiresAt - Date.now();
    if (!result.linkCode || !(lifetimeMs > 0)) return unavailable();
    if (bufferSecs * 1000 > lifetimeMs / 2) {
      stop();
      return say(t("js.wallet.invalid_config"));
    }
    const text = deepLink(wallet, result.linkCode, result.expireDateTime);
    try {
      qr.replaceChildren(qrSvg(text, t("js.wallet.qr_label", { wallet: name })));
    } catch {
      return unavailable();
    }
    // The deep link is the wallet's own scheme; never a script or data URL.
    link.hidden = /^\s*(javascript|data|vbscript):/i.test(text);
    if (!link.hidden) link.href = text;
    say(t("js.wallet.scan"));
    refreshTimer = setTimeout(() => {
      if (refreshes >= refreshLimit) return expired();
      refreshes++;
      start();
    }, lifetimeMs - bufferSecs * 1000);
    poll(mine, result.linkCode, expiresAt - bufferSecs * 1000);
  };

  refresh.addEventListener("click", () => {
    refreshes = 0;
    start();
  });
  start();
  return stop;
}
