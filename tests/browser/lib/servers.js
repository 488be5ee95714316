// The processes the browser suite drives: the real `esignet` binary as `esignet demo` (provider,
// mock identity system and demo relying party), a second demo with the proof-of-work captcha on,
// and `esignet mock-sbi` (a simulated SBI 2.0 device on a port the login page scans). Each run
// uses fresh loopback ports and temporary data directories; everything is stopped at the end.

import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root (tests/browser/lib → ../../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/**
 * The `esignet` binary: `ESIGNET_BIN` when set (the cargo test wrapper passes the binary it
 * built), else built once here with `cargo build -p esignet`.
 */
export async function esignetBinary() {
  if (process.env.ESIGNET_BIN) return process.env.ESIGNET_BIN;
  const { stdout } = await run("cargo", ["build", "-p", "esignet", "--message-format=json-render-diagnostics"], {
    cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024,
  });
  for (const line of stdout.split("\n").reverse()) {
    if (!line.startsWith("{")) continue;
    const message = JSON.parse(line);
    if (message.reason === "compiler-artifact" && message.target?.name === "esignet" && message.executable) {
      return message.executable;
    }
  }
  throw new Error("cargo build -p esignet produced no esignet executable");
}

/** A free loopback TCP port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be bound now. */
function portIsFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it resolves true, or fails after `timeoutMs` with `what`. */
async function waitFor(what, check, timeoutMs, child) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited with ${child.exitCode}`);
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
}

/** The environment of a child: this process's, without any ESIGNET_* setting. */
function baseEnv() {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("ESIGNET_")) env[key] = value;
  }
  env.ESIGNET_LOG = "warn";
  return env;
}

/** A started child process with its captured output (shown when a test fails to start it). */
function start(binary, args, env) {
  const child = spawn(binary, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-20000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  return { child, output: () => output };
}

/** Stops a child (SIGTERM, then SIGKILL after 3 s). */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts `esignet demo` on fresh ports with `extraEnv` (for example the captcha settings).
 * Resolves to `{provider, rp, close(), output()}`: the two base URLs, and the last of its output.
 */
export async function startDemo(binary, extraEnv = {}) {
  const [providerPort, identityPort, rpPort] = await Promise.all([freePort(), freePort(), freePort()]);
  const provider = `http://127.0.0.1:${providerPort}`;
  const rp = `http://127.0.0.1:${rpPort}`;
  const data = mkdtempSync(path.join(tmpdir(), "esignet-browser-"));
  const env = {
    ...baseEnv(),
    ESIGNET_SERVER__BIND: `127.0.0.1:${providerPort}`,
    ESIGNET_SERVER__PUBLIC_URL: provider,
    ESIGNET_DATA__DIR: data,
    ESIGNET_DEMO__REDIRECT_URIS: JSON.stringify([`${rp}/**`]),
    ...extraEnv,
  };
  const process_ = start(binary, [
    "demo", "--identity-bind", `127.0.0.1:${identityPort}`, "--rp-bind", `127.0.0.1:${rpPort}`,
  ], env);
  const close = async () => {
    await stop(process_.child);
    rmSync(data, { recursive: true, force: true });
  };
  try {
    await waitFor("the provider", async () => (await fetch(`${provider}/v1/esignet/actuator/health`)).ok, 60000, process_.child);
    await waitFor("the demo relying party", async () => (await fetch(rp)).ok, 30000, process_.child);
  } catch (error) {
    await close();
    throw new Error(`${error.message}\n--- esignet demo output ---\n${process_.output()}`);
  }
  return { provider, rp, close, output: process_.output };
}

/**
 * Starts `esignet mock-sbi` on the first free port of 4501-4600 (the range the login page
 * scans; 4501 unless taken). Resolves to `{port, close()}`.
 */
export async function startMockSbi(binary) {
  let port = 0;
  for (let candidate = 4501; candidate <= 4600 && !port; candidate++) {
    if (await portIsFree(candidate)) port = candidate;
  }
  if (!port) throw new Error("no free port in the SBI range 4501-4600");
  const data = mkdtempSync(path.join(tmpdir(), "esignet-sbi-"));
  const process_ = start(binary, ["mock-sbi", "--bind", `127.0.0.1:${port}`], { ...baseEnv(), ESIGNET_DATA__DIR: data });
  const close = async () => {
    await stop(process_.child);
    rmSync(data, { recursive: true, force: true });
  };
  try {
    await waitFor("the mock SBI device", async () => {
      const response = await fetch(`http://127.0.0.1:${port}/device`, {
        method: "MOSIPDISC", body: JSON.stringify({ type: "Biometric Device" }),
      });
      return response.ok;
    }, 30000, process_.child);
  } catch (error) {
    await close();
    throw new Error(`${error.message}\n--- esignet mock-sbi output ---\n${process_.output()}`);
  }
  return { port, close };
}

/**
 * Runs `esignet wallet-sim` (a wallet app on the command line) to the end with `args`; resolves
 * to its standard output, or fails with its output when it exits non-zero.
 */
export async function walletSim(binary, args) {
  try {
    const { stdout } = await run(binary, ["wallet-sim", ...args], { env: baseEnv(), timeout: 60000 });
    return stdout;
  } catch (error) {
    throw new Error(`esignet wallet-sim ${args.join(" ")} failed: ${error.message}\n${error.stdout || ""}${error.stderr || ""}`);
  }
}
