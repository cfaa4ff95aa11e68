// Measures the client portal's first load against the built binary: the
// JavaScript it loads (gzip) and its largest contentful paint in Chromium
// with 4x CPU throttling (CDP Emulation.setCPUThrottlingRate). A
// measurement, not a test: it prints the numbers and fails only when the
// budgets (150 kB, 1.5 s) are exceeded. Usage: node e2e/perf.mjs [--bin path] [--runs 5]
import { gzipSync } from "node:zlib";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { linkFromMailbox, startTandem } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { bin: { type: "string", default: resolve(here, "../../../bin/tandem") }, runs: { type: "string", default: "5" } } });
const password = "a long and quiet river";
const rate = Number(process.env.PERF_RATE ?? 4);

async function call(base, method, path, { token, body } = {}) {
  const res = await fetch(base + "/api/v1" + path, {
    method,
    headers: { ...(body ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

// waitForText waits until the page's text holds text, with a plain
// expression over CDP. Playwright's locators would inject its selector
// engine (a large script) into the page, and its evaluation would land on
// the throttled main thread in the middle of the load being measured;
// textContent, unlike innerText, forces no layout either.
async function waitForText(cdp, text, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { result } = await cdp.send("Runtime.evaluate", { expression: `!!document.body && document.body.textContent.includes(${JSON.stringify(text)})`, returnByValue: true });
    if (result.value) return;
    if (Date.now() > deadline) throw new Error(`the portal did not show "${text}" within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const tokenOf = (link) => new URLSearchParams(link.split("#")[1]).get("token");

// seed: a coach, a client with a portal account, two goals, steps and a session.
async function seed(base) {
  await call(base, "POST", "/auth/register", { body: { practice_name: "Perf Practice", name: "Carla Coach", email: "carla@example.com", password } });
  await call(base, "POST", "/auth/verify-email", { body: { token: tokenOf(await linkFromMailbox(base, "carla@example.com")) } });
  const coach = (await call(base, "POST", "/auth/login", { body: { email: "carla@example.com", password } })).access_token;
  const client = await call(base, "POST", "/clients", { token: coach, body: { name: "Maya Client", email: "maya@example.com", timezone: "Europe/Berlin" } });
  await call(base, "POST", `/clients/${client.id}/invitation`, { token: coach });
  await call(base, "POST", "/invitations/accept", { body: { token: tokenOf(await linkFromMailbox(base, "maya@example.com")), name: "Maya Client", password } });
  for (const title of ["Run a half marathon", "Sleep before midnight"]) {
    const goal = await call(base, "POST", `/clients/${client.id}/goals`, { token: coach, body: { title, why: "Because it matters to me." } });
    for (const step of ["First step", "Second step", "Third step"]) await call(base, "POST", `/goals/${goal.id}/action-steps`, { token: coach, body: { title: `${step} of ${title}` } });
  }
  const start = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  await call(base, "POST", `/clients/${client.id}/sessions`, { token: coach, body: { starts_at: start, duration_minutes: 60 } });
}

const server = await startTandem({ bin: values.bin, db: "sqlite" });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const lcps = [];
let jsGzip = 0;
let jsFiles = [];
try {
  await seed(server.base);
  for (let run = 0; run < Number(values.runs); run++) {
    const ctx = await browser.newContext({ baseURL: server.base, viewport: { width: 375, height: 812 } });
    // Sign in as the client (the refresh cookie lands in this context).
    const login = await ctx.request.post("/api/v1/auth/browser/login", { headers: { "X-Tandem-CSRF": "1", Origin: server.base }, data: { email: "maya@example.com", password } });
    if (!login.ok()) throw new Error(`browser login: ${login.status()}`);
    const page = await ctx.newPage();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate });
    const scripts = [];
    page.on("response", async (r) => {
      if (r.request().resourceType() === "script") scripts.push({ url: r.url(), body: await r.body() });
    });
    await page.goto("/portal");
    await waitForText(cdp, "Hello, Maya");
    await waitForText(cdp, "Run a half marathon");
    await page.waitForTimeout(300);
    const lcp = await page.evaluate(
      () =>
        new Promise((res) => {
          new PerformanceObserver((list) => {
            const e = list.getEntries();
            res(e[e.length - 1].startTime);
          }).observe({ type: "largest-contentful-paint", buffered: true });
        }),
    );
    lcps.push(lcp);
    if (process.env.PERF_DEBUG) console.log(await page.evaluate(() => [performance.getEntriesByType("navigation")[0].responseEnd, ...performance.getEntriesByType("mark").map((m) => m.name + " " + m.startTime.toFixed(0)), ...performance.getEntriesByType("resource").map((r) => `${r.name.replace(location.origin, "")} ${r.startTime.toFixed(0)}-${r.responseEnd.toFixed(0)}`)]));
    jsFiles = scripts.map((s) => ({ name: new URL(s.url).pathname, gzip: gzipSync(s.body).length }));
    jsGzip = jsFiles.reduce((n, f) => n + f.gzip, 0);
    await ctx.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
lcps.sort((a, b) => a - b);
const median = lcps[Math.floor(lcps.length / 2)];
console.log(`portal route JavaScript: ${(jsGzip / 1000).toFixed(1)} kB gzip in ${jsFiles.length} file(s): ${jsFiles.map((f) => `${f.name} ${(f.gzip / 1000).toFixed(1)} kB`).join(", ")}`);
console.log(`portal LCP, ${rate}x CPU throttling, 375 px, cold cache: median ${median.toFixed(0)} ms over ${lcps.length} runs (${lcps.map((l) => l.toFixed(0)).join(", ")} ms)`);
const over = jsGzip > 150_000 || median > 1500;
if (over) console.log("over budget (150 kB gzip, 1.5 s LCP)");
process.exit(over ? 1 : 0);
