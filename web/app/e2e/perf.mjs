// Measures the client portal's first load against the built binary: the
// JavaScript it loads (gzip) and its largest contentful paint in Chromium
// with 4x CPU throttling (CDP Emulation.setCPUThrottlingRate). A
// measurement, not a test: it prints the numbers and fails only when the
// budgets (150 kB, 1.5 s) are exceeded. Usage: node e2e/perf.mjs [--bin path]... [--runs 5];
// with several --bin, their runs take turns and each build is reported.
import { gzipSync } from "node:zlib";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { linkFromMailbox, startTandem } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { bin: { type: "string", multiple: true }, runs: { type: "string", default: "5" } } });
const bins = values.bin?.length ? values.bin : [resolve(here, "../../../bin/tandem")];
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

// waitForText resolves once the page's text holds text. It asks once over
// CDP, and the page answers from a MutationObserver: polling would put a
// task on the throttled main thread every few milliseconds, in the middle
// of the load being measured, and Playwright's locators would inject its
// selector engine (a large script) there too. textContent, unlike
// innerText, forces no layout.
async function waitForText(cdp, text, timeoutMs = 30_000) {
  const expression = `new Promise((resolve) => {
    const want = ${JSON.stringify(text)};
    const has = () => document.body.textContent.includes(want);
    if (has()) return resolve(true);
    const seen = new MutationObserver(() => { if (has()) { seen.disconnect(); resolve(true); } });
    seen.observe(document.body, { childList: true, subtree: true, characterData: true });
    setTimeout(() => { seen.disconnect(); resolve(has()); }, ${timeoutMs});
  })`;
  const { result } = await cdp.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
  if (!result.value) throw new Error(`the portal did not show "${text}" within ${timeoutMs / 1000} s`);
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
  // Due dates as a client has them: one overdue, one today, one later
  // (each shown as a date, in the viewer's locale), and some without.
  const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const dues = [[day(-3), day(0), day(4)], [null, null, day(9)]];
  for (const [g, title] of ["Run a half marathon", "Sleep before midnight"].entries()) {
    const goal = await call(base, "POST", `/clients/${client.id}/goals`, { token: coach, body: { title, why: "Because it matters to me." } });
    for (const [i, step] of ["First step", "Second step", "Third step"].entries()) {
      await call(base, "POST", `/goals/${goal.id}/action-steps`, { token: coach, body: { title: `${step} of ${title}`, ...(dues[g][i] ? { due_date: dues[g][i] } : {}) } });
    }
  }
  const start = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  await call(base, "POST", `/clients/${client.id}/sessions`, { token: coach, body: { starts_at: start, duration_minutes: 60 } });
}

// measure loads the portal once, cold, as the signed-in client, and
// returns its LCP and the JavaScript it ran.
async function measure(browser, base) {
  const ctx = await browser.newContext({ baseURL: base, viewport: { width: 375, height: 812 } });
  try {
    // Sign in as the client (the refresh cookie lands in this context).
    const login = await ctx.request.post("/api/v1/auth/browser/login", { headers: { "X-Tandem-CSRF": "1", Origin: base }, data: { email: "maya@example.com", password } });
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
            res({ at: e[e.length - 1].startTime, candidates: e.map((x) => `${x.startTime.toFixed(0)} ms ${x.size} px² <${x.element?.tagName.toLowerCase() ?? "?"}> ${(x.element?.textContent ?? "").slice(0, 40)}`) });
          }).observe({ type: "largest-contentful-paint", buffered: true });
        }),
    );
    if (process.env.PERF_DEBUG) {
      const timings = await page.evaluate(() => [
        `response end ${performance.getEntriesByType("navigation")[0].responseEnd.toFixed(0)}`,
        ...performance.getEntriesByType("mark").map((m) => `${m.name} ${m.startTime.toFixed(0)}`),
        ...performance.getEntriesByType("resource").map((r) => `${r.name.replace(location.origin, "")} ${r.startTime.toFixed(0)}-${r.responseEnd.toFixed(0)}`),
      ]);
      console.log({ lcp: lcp.candidates, timings });
    }
    const js = scripts.map((s) => ({ name: new URL(s.url).pathname, gzip: gzipSync(s.body).length }));
    return { lcp: lcp.at, js };
  } finally {
    await ctx.close();
  }
}

// Each build gets a server of its own; with several, their runs take turns,
// so a change in the machine's load falls on each alike (compare builds
// with --bin old --bin new).
const servers = [];
const results = bins.map((bin) => ({ bin, lcps: [], js: [] }));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  for (const bin of bins) {
    const server = await startTandem({ bin, db: "sqlite" });
    servers.push(server);
    await seed(server.base);
  }
  for (let run = 0; run < Number(values.runs); run++) {
    for (const [i, r] of results.entries()) {
      const { lcp, js } = await measure(browser, servers[i].base);
      r.lcps.push(lcp);
      r.js = js;
    }
  }
} finally {
  await browser.close();
  for (const server of servers) await server.stop();
}
let over = false;
for (const r of results) {
  const lcps = [...r.lcps].sort((a, b) => a - b);
  const median = lcps[Math.floor(lcps.length / 2)];
  const jsGzip = r.js.reduce((n, f) => n + f.gzip, 0);
  if (results.length > 1) console.log(`${r.bin}:`);
  console.log(`portal route JavaScript: ${(jsGzip / 1000).toFixed(1)} kB gzip in ${r.js.length} file(s): ${r.js.map((f) => `${f.name} ${(f.gzip / 1000).toFixed(1)} kB`).join(", ")}`);
  console.log(`portal LCP, ${rate}x CPU throttling, 375 px, cold cache: median ${median.toFixed(0)} ms over ${lcps.length} runs (${lcps.map((l) => l.toFixed(0)).join(", ")} ms)`);
  over ||= jsGzip > 150_000 || median > 1500;
}
if (over) console.log("over budget (150 kB gzip, 1.5 s LCP)");
process.exit(over ? 1 : 0);
