// Starts a real `tandem serve` (the built binary) on a free port, on SQLite
// in a fresh data directory or on a fresh PostgreSQL database, and stops it
// (dropping the database) afterwards.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function psql(adminURL, sql) {
  execFileSync("psql", [adminURL, "-v", "ON_ERROR_STOP=1", "-qc", sql], { stdio: ["ignore", "ignore", "inherit"] });
}

// extraEnv adds variables (billing's TANDEM_STRIPE_*, for one).
export async function startTandem({ bin, db, postgresURL, extraEnv = {} }) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-e2e-"));
  const env = { ...process.env, ...extraEnv, TANDEM_LISTEN_ADDR: `127.0.0.1:${port}`, TANDEM_DATA_DIR: dataDir, TANDEM_LOG_LEVEL: "warn" };
  let dbName = null;
  if (db === "postgres") {
    dbName = `tandem_e2e_${process.pid}_${Date.now()}`;
    psql(postgresURL, `CREATE DATABASE ${dbName}`);
    const u = new URL(postgresURL);
    u.pathname = `/${dbName}`;
    env.TANDEM_DATABASE_URL = u.toString();
  }
  const proc = spawn(bin, ["serve"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`tandem serve exited: ${stderr}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`tandem serve did not get ready: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
      if (dbName) psql(postgresURL, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    },
  };
}

// startStripeMock runs stripe-mock, Stripe's API double and a Go tool of
// this module ($TANDEM_TEST_STRIPE_MOCK, or the binary `go tool -n
// stripe-mock` names), on free loopback ports, and answers its HTTP
// address. It reads Stripe's whole API description first (a few seconds),
// so the runner starts it early, beside the first journeys.
export async function startStripeMock({ moduleDir }) {
  const bin = process.env.TANDEM_TEST_STRIPE_MOCK || execFileSync("go", ["tool", "-n", "stripe-mock"], { cwd: moduleDir, encoding: "utf8" }).trim();
  const proc = spawn(bin, ["-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stripe-mock did not say where it listens: ${out}`)), 90_000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/Listening for HTTP at address: (\S+)/);
      if (m && timer) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
      if (out.length > 100_000) out = out.slice(-1000); // it logs every request
    });
    proc.stderr.on("data", (d) => (out += d));
    proc.once("exit", (code) => reject(new Error(`stripe-mock exited (${code}): ${out}`)));
  });
  return {
    url,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
    },
  };
}

// linkFromMailbox reads the newest e-mail with a link to an address from the
// development mailbox (which answers only this machine) and returns the
// link's path.
export async function linkFromMailbox(base, to, { timeout = 15_000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const res = await fetch(`${base}/dev/mailbox.json?to=${encodeURIComponent(to)}`);
    const box = await res.json();
    // The newest e-mail with a link: a reminder or notice without one may
    // have arrived after it (the session reminder of a session tomorrow).
    const m = (box.items ?? []).map((i) => (i.text ?? "").match(/https?:\/\/[^\s]+#token=[A-Za-z0-9_-]+/)).find(Boolean);
    if (m) {
      const u = new URL(m[0]);
      return u.pathname + u.hash;
    }
    if (Date.now() > deadline) throw new Error(`no link in the mailbox for ${to}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
