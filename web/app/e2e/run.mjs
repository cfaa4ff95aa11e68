// End-to-end journeys of all three roles in Debian's Chromium against a real
// `tandem serve`, on SQLite and on PostgreSQL. Usage:
//   node e2e/run.mjs [--bin path/to/tandem] [--db sqlite,postgres]
// Screenshots go to a fresh folder, printed at the start; axe-core checks
// every main screen (no serious or critical violation may remain).
import { readFileSync, mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { startStripeMock, startTandem } from "./server.mjs";
import { billingJourney, journeys } from "./journeys.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    bin: { type: "string", default: resolve(here, "../../../bin/tandem") },
    db: { type: "string", default: "sqlite,postgres" },
    shots: { type: "string" },
  },
});
const postgresURL = process.env.TANDEM_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
const shots = values.shots ?? mkdtempSync(join(tmpdir(), "tandem-screens-"));
mkdirSync(shots, { recursive: true });
console.log(`screenshots: ${shots}`);

const axeSource = readFileSync(resolve(here, "../node_modules/axe-core/axe.min.js"), "utf8");

// Debian's Chromium, never a downloaded one; a fresh profile per launch
// (Playwright gives each launch its own temporary --user-data-dir).
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

// Billing's journey runs on a second server with billing on, against
// stripe-mock (started now, as it takes a few seconds to load), so that
// every other journey runs as a self-hosted server without billing would.
const repoDir = resolve(here, "../../..");
const stripeMock = startStripeMock({ moduleDir: repoDir });
stripeMock.catch(() => {}); // awaited, and reported, where it is needed
const billingEnv = (mock) => ({
  TANDEM_STRIPE_SECRET_KEY: "sk_test_e2e",
  TANDEM_STRIPE_WEBHOOK_SECRET: "whsec_e2e",
  TANDEM_STRIPE_API_URL: mock.url,
  TANDEM_STRIPE_PLANS_FILE: resolve(repoDir, "deploy/billing-plans.example.json"),
});

let failed = false;
const started = Date.now();
try {
  for (const db of values.db.split(",")) {
    const log = (m) => console.log(`[${db}] ${m}`);
    const t0 = Date.now();
    const server = await startTandem({ bin: values.bin, db, postgresURL });
    try {
      await journeys({ browser, base: server.base, db, shots: join(shots, db), axeSource, log });
      console.log(`[${db}] all journeys passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed = true;
      console.error(`[${db}] FAILED: ${e.stack ?? e}`);
    } finally {
      await server.stop();
    }
    const t1 = Date.now();
    try {
      const billing = await startTandem({ bin: values.bin, db, postgresURL, extraEnv: billingEnv(await stripeMock) });
      try {
        await billingJourney({ browser, base: billing.base, shots: join(shots, db), axeSource, log });
        console.log(`[${db}] the billing journey passed in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
      } finally {
        await billing.stop();
      }
    } catch (e) {
      failed = true;
      console.error(`[${db}] billing FAILED: ${e.stack ?? e}`);
    }
  }
} finally {
  await browser.close();
  await stripeMock.then((m) => m.stop()).catch(() => {});
}
console.log(`e2e: ${failed ? "FAILED" : "passed"} in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
