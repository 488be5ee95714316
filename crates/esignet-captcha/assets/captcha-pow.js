// eSignet-rs proof-of-work captcha solver.
//
// A vanilla-JS ES module (no dependencies, no build step). Import it from a module script:
//
//   import { fetchAndSolve, solveChallenge } from "<served path>/captcha-pow.js";
//   const captchaToken = await fetchAndSolve(configs["captcha.pow.challenge-url"], "pwd");
//
// It searches, with WebCrypto SHA-256, a decimal nonce such that SHA-256(challenge + "." + nonce)
// starts with `difficulty` zero bits, and returns the captchaToken `challenge + "." + nonce`.
// The search runs in a module Web Worker started from this same file when the browser allows
// it, and otherwise on the calling thread (WebCrypto is asynchronous, so the page stays
// responsive either way). The full interface is in crates/esignet-captcha/README.md.

const ENCODER = new TextEncoder();
// 16 decimal digits: below 2^53, so every nonce is an exact JavaScript number.
const MAX_NONCE = 9999999999999999;
// Digests started together: amortises WebCrypto's per-call overhead without hoarding memory.
const DEFAULT_BATCH = 32;
// Deadline used when a challenge carries no expiresIn (the server's default lifetime).
const DEFAULT_EXPIRES_IN_SECS = 300;

function leadingZeroBits(bytes) {
  let bits = 0;
  for (const byte of bytes) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

function abortError() {
  return new DOMException("captcha solving aborted", "AbortError");
}

function assertChallenge(challenge) {
  if (
    !challenge ||
    challenge.kind !== "pow" ||
    challenge.algorithm !== "SHA-256" ||
    typeof challenge.challenge !== "string" ||
    !Number.isInteger(challenge.difficulty) ||
    challenge.difficulty < 1 ||
    challenge.difficulty > 32
  ) {
    throw new TypeError("esignet-captcha: not a proof-of-work challenge");
  }
}

// The search itself. `deadline` is a Date.now() value; `shouldStop` is polled between batches.
async function search(challenge, { deadline, batchSize, shouldStop, onProgress }) {
  const prefix = challenge.challenge + ".";
  const batch = Math.max(1, Math.min(1024, batchSize | 0 || DEFAULT_BATCH));
  let reported = 0;
  for (let start = 0; start <= MAX_NONCE; start += batch) {
    if (shouldStop && shouldStop()) {
      throw abortError();
    }
    if (Date.now() >= deadline) {
      throw new Error("esignet-captcha: challenge expired before a solution was found");
    }
    const pending = [];
    for (let i = 0; i < batch; i++) {
      pending.push(crypto.subtle.digest("SHA-256", ENCODER.encode(prefix + (start + i))));
    }
    const digests = await Promise.all(pending);
    for (let i = 0; i < digests.length; i++) {
      if (leadingZeroBits(new Uint8Array(digests[i])) >= challenge.difficulty) {
        return prefix + (start + i);
      }
    }
    if (onProgress && start + batch - reported >= 1024) {
      reported = start + batch;
      onProgress(reported);
    }
  }
  throw new Error("esignet-captcha: no solution");
}

function runInWorker(worker, challenge, { deadline, batchSize, signal, onProgress }, fallback) {
  return new Promise((resolve, reject) => {
    const finish = (settle, value) => {
      worker.terminate();
      if (signal) {
        signal.removeEventListener("abort", onAbort);
      }
      settle(value);
    };
    const onAbort = () => finish(reject, abortError());
    if (signal) {
      signal.addEventListener("abort", onAbort, { once: true });
    }
    worker.addEventListener("message", (event) => {
      const data = event.data || {};
      if (typeof data.progress === "number") {
        if (onProgress) {
          onProgress(data.progress);
        }
      } else if (typeof data.token === "string") {
        finish(resolve, data.token);
      } else {
        finish(reject, new Error(data.error || "esignet-captcha: worker failed"));
      }
    });
    // A browser without module workers fails to load this file as a worker: solve here instead.
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      worker.terminate();
      if (signal) {
        signal.removeEventListener("abort", onAbort);
      }
      fallback().then(resolve, reject);
    });
    worker.postMessage({ challenge, deadline, batchSize });
  });
}

/**
 * Solves a proof-of-work challenge (the `response` of GET <base>/captcha/challenge?action=...).
 *
 * @param {{kind: "pow", algorithm: "SHA-256", challenge: string, difficulty: number,
 *          action: string, expiresAt: number, expiresIn: number}} challenge
 * @param {{signal?: AbortSignal, onProgress?: (hashesTried: number) => void,
 *          useWorker?: boolean, batchSize?: number}} [options]
 * @returns {Promise<string>} the captchaToken to send with send-otp / authenticate.
 *   Rejects with a TypeError for anything but a pow challenge, an AbortError DOMException when
 *   `signal` aborts, and an Error when the challenge expires before a solution is found.
 */
export async function solveChallenge(challenge, options = {}) {
  assertChallenge(challenge);
  const { signal, onProgress, useWorker = true, batchSize = DEFAULT_BATCH } = options;
  if (signal && signal.aborted) {
    throw abortError();
  }
  const expiresIn = Number.isFinite(challenge.expiresIn)
    ? challenge.expiresIn
    : DEFAULT_EXPIRES_IN_SECS;
  const deadline = Date.now() + expiresIn * 1000;
  const here = () =>
    search(challenge, {
      deadline,
      batchSize,
      onProgress,
      shouldStop: () => Boolean(signal && signal.aborted),
    });
  if (useWorker && typeof Worker === "function") {
    let worker = null;
    try {
      worker = new Worker(import.meta.url, { type: "module", name: "esignet-captcha-pow" });
    } catch {
      worker = null;
    }
    if (worker) {
      return runInWorker(worker, challenge, { deadline, batchSize, signal, onProgress }, here);
    }
  }
  return here();
}

/**
 * Fetches a challenge for `action` from `challengeUrl` (the UI config
 * `captcha.pow.challenge-url`) and solves it.
 *
 * @param {string} challengeUrl
 * @param {"send-otp" | "pwd" | "pin" | "kbi" | "bio"} action
 * @param {object} [options] as for solveChallenge
 * @returns {Promise<string>} the captchaToken.
 */
export async function fetchAndSolve(challengeUrl, action, options = {}) {
  const base = globalThis.location ? globalThis.location.href : undefined;
  const url = new URL(challengeUrl, base);
  url.searchParams.set("action", action);
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
    signal: options.signal,
  });
  if (!response.ok) {
    throw new Error(`esignet-captcha: challenge request failed (HTTP ${response.status})`);
  }
  const body = await response.json();
  if (Array.isArray(body.errors) && body.errors.length > 0) {
    throw new Error(`esignet-captcha: ${body.errors[0].errorCode}`);
  }
  return solveChallenge(body.response, options);
}

// Worker side: the same file, started by solveChallenge as a module worker.
if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  globalThis.addEventListener("message", async (event) => {
    const { challenge, deadline, batchSize } = event.data || {};
    try {
      assertChallenge(challenge);
      const token = await search(challenge, {
        deadline,
        batchSize,
        onProgress: (tried) => globalThis.postMessage({ progress: tried }),
      });
      globalThis.postMessage({ token });
    } catch (error) {
      globalThis.postMessage({ error: String((error && error.message) || error) });
    }
  });
}
