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

export async function startTandem({ bin, db, postgresURL }) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-e2e-"));
  const env = { ...process.env, TANDEM_LISTEN_ADDR: `127.0.0.1:${port}`, TANDEM_DATA_DIR: dataDir, TANDEM_LOG_LEVEL: "warn" };
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
