// The journeys, named after what each person achieves. Each step asserts
// what the person sees; axe runs on every main screen.
import { createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { linkFromMailbox } from "./server.mjs";

const password = "a long and quiet river";

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

// newLinkFromMailbox waits for the newest link to `to` to be a new one
// that `wanted` accepts: the mailbox still holds the earlier e-mails, and
// the new one is sent by a job.
async function newLinkFromMailbox(base, to, wanted) {
  for (let tries = 0; ; tries++) {
    const link = await linkFromMailbox(base, to);
    if (wanted(link)) return link;
    if (tries >= 75) throw new Error(`no new link in the mailbox for ${to}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// chartValues waits until a chart's table of points lists exactly these
// values (its second column), in order: the entries arrive after the goal.
async function chartValues(table, want, what) {
  let got = [];
  for (let i = 0; i < 50; i++) {
    got = await table.locator("tbody tr td:nth-child(2)").allTextContents();
    if (got.join("|") === want.join("|")) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} lists ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// totp is the RFC 6238 code of a base32 secret now (SHA-1, 6 digits, 30 s),
// as an authenticator app would show it.
function totp(secret, now = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...secret.replace(/[\s=]+/g, "").toUpperCase()].map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0")).join("");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30_000)));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

// browserTools opens pages as one person each and checks screens.
function browserTools({ browser, base, shots, axeSource }) {
  mkdirSync(shots, { recursive: true });
  const contexts = [];
  const newPage = async (name) => {
    // bypassCSP only so that axe-core can be injected; the app itself runs
    // under its real policy in every other respect.
    const ctx = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, bypassCSP: true, timezoneId: "Europe/Berlin", locale: "en-GB" });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => m.type() === "error" && !/status of 4\d\d/.test(m.text()) && errors.push(m.text()));
    page.errors = errors;
    page.who = name;
    return page;
  };

  // screen: check accessibility and take the 1280 and 375 px screenshots.
  const screen = async (page, name) => {
    await page.waitForTimeout(150);
    await page.locator(".skeleton").first().waitFor({ state: "detached", timeout: 10_000 }).catch(() => {});
    await checkAxe(page, name, axeSource);
    await page.screenshot({ path: join(shots, `${name}-1280.png`), fullPage: true });
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(100);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow <= 1, `${name} scrolls sideways at 375 px (${overflow} px too wide)`);
    await checkAxe(page, `${name} at 375 px`, axeSource);
    await page.screenshot({ path: join(shots, `${name}-375.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(page.errors.length === 0, `${name}: script errors: ${page.errors.join("; ")}`);
  };

  // keepFailure keeps what each person saw when a journey failed.
  const keepFailure = async (log) => {
    for (const [i, c] of contexts.entries()) {
      for (const [j, p] of c.pages().entries()) {
        await p.screenshot({ path: join(shots, `FAILED-${i}-${j}.png`), fullPage: true }).catch(() => {});
        log(`at failure, page ${i}-${j} was ${p.url().replace(/#.*/, "")}`);
      }
    }
  };
  const close = async () => {
    for (const c of contexts) await c.close();
  };
  return { newPage, screen, keepFailure, close };
}

export async function journeys({ browser, base, shots, axeSource, log }) {
  const { newPage, screen, keepFailure, close } = browserTools({ browser, base, shots, axeSource });
  try {
    // --- The coach registers, adds a client, sets a goal and steps, schedules a session.
    const coach = await newPage("coach");
    await coach.goto("/");
    await coach.waitForURL("**/signin");
    await screen(coach, "signin");
    await coach.getByRole("link", { name: "Create an account" }).click();
    await coach.getByLabel("Practice name").fill("Northstar Coaching");
    await coach.getByLabel("Your name").fill("Carla Coach");
    await coach.getByLabel("E-mail", { exact: true }).fill("carla@example.com");
    await coach.getByLabel("Password", { exact: true }).fill("short");
    await coach.getByRole("button", { name: "Create practice" }).click();
    // A problem document's field error appears next to its field.
    await coach.locator(".field-error").first().waitFor();
    expect(await coach.getByLabel("Password", { exact: true }).getAttribute("aria-invalid") === "true", "the password field is not marked invalid");
    await coach.getByLabel("Password", { exact: true }).fill(password);
    await coach.getByRole("button", { name: "Create practice" }).click();
    await coach.getByRole("heading", { name: "Check your mailbox" }).waitFor();
    const verifyLink = await linkFromMailbox(base, "carla@example.com");
    expect(verifyLink.startsWith("/verify-email#token="), `the verification link is ${verifyLink.replace(/#.*/, "")}`);
    await coach.goto(verifyLink);
    // The app's own page (not a page of the server's): the typed client calls POST /auth/verify-email.
    await coach.getByRole("heading", { name: "Confirm your e-mail address" }).waitFor();
    expect((await coach.locator("#root").count()) === 1, "the verification link did not open the app");
    await screen(coach, "verify-email");
    await coach.getByRole("button", { name: "Confirm my address" }).click();
    await coach.getByRole("heading", { name: "Address confirmed" }).waitFor();
    await coach.getByText("carla@example.com is confirmed.").waitFor();
    expect(!coach.url().includes("token="), "the spent token stayed in the address bar");
    log("coach registered and confirmed the address on the app's page");

    await coach.goto("/signin");
    await coach.getByLabel("E-mail", { exact: true }).fill("carla@example.com");
    await coach.getByLabel("Password", { exact: true }).fill(password);
    await coach.getByRole("button", { name: "Sign in" }).click();
    await coach.getByRole("heading", { name: "Dashboard" }).waitFor();
    await coach.getByText("No clients yet.").waitFor();

    await coach.getByRole("link", { name: "Add a client" }).click();
    await coach.getByLabel("Name", { exact: true }).fill("Maya Client");
    await coach.getByLabel("E-mail", { exact: true }).fill("maya@example.com");
    await coach.getByRole("button", { name: "Add client" }).click();
    await coach.getByRole("heading", { name: "Maya Client" }).waitFor();
    await coach.getByRole("button", { name: "Invite to the portal" }).click();
    await coach.getByText(/Invitation sent/).waitFor();

    await coach.getByRole("button", { name: "Set a goal" }).click();
    await coach.getByLabel("Goal", { exact: true }).fill("Run a half marathon");
    await coach.getByLabel("Why it matters to them").fill("To prove to myself that I can finish what I start.");
    await coach.getByLabel("Unit").fill("km");
    await coach.getByLabel("Starting value").fill("5");
    await coach.getByLabel("Target value").fill("21");
    await coach.getByRole("button", { name: "Save goal" }).click();
    await coach.getByText("Run a half marathon").waitFor();
    await coach.getByText("No progress recorded yet. The target is 21 km.").waitFor();
    // Two entries: the chart draws both after the baseline, not only the latest.
    for (const value of ["9", "12"]) {
      await coach.getByLabel("Today's value (km)").fill(value);
      await coach.getByRole("button", { name: "Record", exact: true }).click();
      await coach.getByText(`${value} of 21 km`).waitFor();
    }
    const chart = coach.getByRole("img", { name: /Progress on Run a half marathon/ });
    await chart.waitFor();
    const chartTable = coach.getByRole("table", { name: "Progress on Run a half marathon, target 21 km" });
    await chartValues(chartTable, ["5", "9", "12"], "the coach's chart");
    expect((await chart.textContent()).includes("From 5 km (start) to 12 km ("), "the chart does not summarise the progress");
    log("coach recorded two progress entries and the chart lists both");
    const today = await coach.evaluate(() => {
      const d = new Date();
      return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    });
    for (const step of ["Run 5 km on Saturday", "Book a physiotherapy check"]) {
      const form = coach.getByRole("form", { name: "Add a step to Run a half marathon" });
      await form.getByLabel("New step").fill(step);
      await form.getByLabel("Due").fill(today);
      await form.getByRole("button", { name: "Add step" }).click();
      await coach.getByText(step).waitFor();
    }

    await coach.getByRole("button", { name: "Schedule", exact: true }).click();
    const when = await coach.evaluate(() => {
      const d = new Date();
      d.setDate(d.getDate() + 1);
      const p = (n) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T10:00`;
    });
    await coach.getByLabel("Starts").fill(when);
    await coach.getByLabel("Where").fill("Video call");
    await coach.getByRole("button", { name: "Schedule session" }).click();
    await coach.getByRole("button", { name: /10:00 · 60 min/ }).waitFor();
    // The same hour again: the double booking is refused in place.
    await coach.getByRole("button", { name: "Schedule", exact: true }).click();
    await coach.getByLabel("Starts").fill(when);
    await coach.getByRole("button", { name: "Schedule session" }).click();
    const conflict = coach.locator(".inline-form [role=alert]").first();
    await conflict.waitFor();
    log(`double booking refused in place: ${(await conflict.textContent()).slice(0, 80)}`);
    await coach.getByRole("button", { name: "Close" }).last().click();
    await screen(coach, "coach-client");
    await coach.getByRole("link", { name: "Calendar" }).click();
    await coach.getByRole("heading", { name: /Week of/ }).waitFor();
    await screen(coach, "coach-calendar");
    await coach.getByRole("link", { name: "Dashboard" }).click();
    await coach.getByRole("link", { name: "Maya Client" }).waitFor();
    await screen(coach, "coach-dashboard");
    log("coach set up the client, a goal, two steps and a session");

    // --- The client accepts the invitation, completes a step with a reflection, signs a consent.
    const client = await newPage("client");
    await client.goto(await linkFromMailbox(base, "maya@example.com"));
    await client.getByRole("heading", { name: "Accept your invitation" }).waitFor();
    await screen(client, "accept-invitation");
    await client.getByLabel("Your name").fill("Maya Client");
    await client.getByLabel("Password", { exact: true }).fill(password);
    await client.getByRole("button", { name: "Accept invitation" }).click();
    await client.getByRole("heading", { name: "Hello, Maya" }).waitFor();
    await client.getByText("Run 5 km on Saturday").waitFor();
    await client.getByRole("button", { name: "Add a reflection" }).first().click();
    await client.getByLabel("How did it go? (optional)").fill("Harder than I thought, but I finished.");
    await client.getByRole("button", { name: "Done, with this reflection" }).click();
    await client.getByText("Run 5 km on Saturday").waitFor({ state: "detached" });
    await client.getByRole("button", { name: "Mark “Book a physiotherapy check” done" }).waitFor();
    log("client completed a step with a reflection");
    await client.getByRole("img", { name: /Progress on Run a half marathon/ }).waitFor();
    await chartValues(client.getByRole("table", { name: "Progress on Run a half marathon, target 21 km" }), ["5", "9", "12"], "the portal's chart");
    await screen(client, "portal");

    // --- The client changes what Tandem e-mails them, and sees it kept and their e-mail log.
    await client.getByRole("link", { name: "Account", exact: true }).click();
    await client.getByRole("heading", { name: "Account settings" }).waitFor();
    await client.getByLabel(/Session reminders/).uncheck();
    await client.getByLabel("Morning digest at").selectOption("8");
    await client.getByLabel("Hold e-mail back during quiet hours").check();
    await client.getByLabel("From", { exact: true }).fill("21:30");
    await client.getByLabel("Until", { exact: true }).fill("07:15");
    await client.getByRole("button", { name: "Save notification settings" }).click();
    await client.getByText("Saved.", { exact: true }).waitFor();
    await client.getByText("Invitation to the client portal").waitFor();
    await screen(client, "account");
    await client.reload();
    await client.getByRole("heading", { name: "Account settings" }).waitFor();
    await client.getByText(/Last changed/).waitFor();
    expect(!(await client.getByLabel(/Session reminders/).isChecked()), "session reminders are still on after a reload");
    expect((await client.getByLabel("Morning digest at").inputValue()) === "8", "the digest hour was not kept");
    expect((await client.getByLabel("From", { exact: true }).inputValue()) === "21:30", "quiet hours were not kept");
    const invitation = client.locator(".deliveries li", { hasText: "Invitation to the client portal" });
    await invitation.getByText("Sent", { exact: true }).waitFor({ timeout: 15_000 }).catch(() => {});
    log(`client changed notification settings, kept after a reload; e-mail log: ${(await invitation.first().innerText()).replace(/\s+/g, " ").slice(0, 90)}`);
    await client.getByRole("link", { name: "My coaching" }).click();
    await client.getByRole("heading", { name: "Hello, Maya" }).waitFor();

    await client.getByRole("link", { name: "Share with a therapist" }).click();
    await client.getByRole("heading", { name: "Share with a therapist" }).waitFor();
    await client.getByLabel("Therapist's full name").fill("Tessa Therapist");
    await client.getByLabel("Therapist's e-mail").fill("tessa@example.com");
    // Goals and action steps are ticked; nothing about sessions is shared.
    expect(await client.getByLabel("Goals", { exact: true }).isChecked(), "goals not preselected");
    expect(!(await client.getByLabel("Session summaries").isChecked()), "summaries preselected");
    await client.getByLabel("Sign with your full name").fill("Maya Client");
    await client.getByLabel("Your password").fill(password);
    await screen(client, "consent-sign");
    await client.getByRole("button", { name: "Sign and share" }).click();
    await client.getByText("Waiting for the therapist").waitFor();
    log("client signed a consent for goals and action steps");

    // --- The therapist accepts and sees only the consented classes.
    const therapist = await newPage("therapist");
    const firstInvitation = await linkFromMailbox(base, "tessa@example.com");
    await therapist.goto(firstInvitation);
    await therapist.getByLabel("Your name").fill("Tessa Therapist");
    await therapist.getByLabel("Password", { exact: true }).fill(password);
    await therapist.getByRole("button", { name: "Accept invitation" }).click();
    await therapist.getByRole("heading", { name: "Shared with me" }).waitFor();
    await therapist.getByRole("link", { name: "Maya Client" }).click();
    await therapist.getByRole("heading", { name: "Maya Client" }).waitFor();
    await therapist.getByText("Run a half marathon").waitFor();
    await therapist.getByText("Harder than I thought").waitFor({ state: "detached", timeout: 500 }).catch(() => {});
    const headings = await therapist.getByRole("heading", { level: 2 }).allTextContents();
    expect(headings.includes("Goals") && headings.includes("Action steps"), `consented classes missing: ${headings}`);
    expect(!headings.some((h) => /Session|Coordination/.test(h)), `unconsented classes shown: ${headings}`);
    await screen(therapist, "therapist-client");
    log("therapist sees goals and action steps only");

    // --- The therapist turns on two-step sign-in from their account settings.
    await therapist.getByRole("link", { name: "Account", exact: true }).click();
    await therapist.getByRole("heading", { name: "Account settings" }).waitFor();
    await therapist.getByRole("button", { name: "Set up two-step sign-in" }).click();
    const secret = (await therapist.locator(".totp-secret code").textContent()).replace(/\s+/g, "");
    await therapist.getByText("Show the setup link instead").click();
    expect((await therapist.getByLabel("Setup link (otpauth)").inputValue()).startsWith("otpauth://totp/"), "no otpauth link shown");
    await screen(therapist, "account-two-step");
    await therapist.getByLabel("The 6-digit code the app shows now").fill(totp(secret));
    await therapist.getByRole("button", { name: "Turn two-step sign-in on" }).click();
    await therapist.getByText("Two-step sign-in is on.").waitFor();
    const recovery = await therapist.locator(".recovery-codes li").count();
    expect(recovery === 10, `expected 10 recovery codes, saw ${recovery}`);
    log("therapist turned on two-step sign-in with the shown key and sees 10 recovery codes");
    await therapist.getByRole("link", { name: "Shared with me" }).click();
    await therapist.getByRole("link", { name: "Maya Client" }).click();
    await therapist.getByRole("heading", { name: "Maya Client" }).waitFor();

    // --- The client revokes (two taps from home) and the therapist's next view is refused.
    await client.goto("/portal");
    await client.getByText("Active", { exact: true }).waitFor();
    await client.getByRole("button", { name: "Revoke" }).click();
    await client.getByRole("button", { name: "Yes, stop sharing" }).click();
    await client.getByText("You share nothing with anyone.").waitFor();
    await client.getByText("Tessa Therapist").first().waitFor(); // in "who saw my data"
    log("client revoked the consent in two taps");
    await therapist.reload();
    await therapist.getByText("You no longer have access to this client.").waitFor();
    expect((await therapist.getByText("Run a half marathon").count()) === 0, "the revoked therapist still sees the goal");
    log("therapist's next view was refused");

    // --- The client asks the same therapist again; the therapist declines straight from the e-mailed link.
    await client.goto("/portal");
    await client.getByRole("link", { name: "Share with a therapist" }).click();
    await client.getByLabel("Therapist's full name").fill("Tessa Therapist");
    await client.getByLabel("Therapist's e-mail").fill("tessa@example.com");
    await client.getByLabel("Sign with your full name").fill("Maya Client");
    await client.getByLabel("Your password").fill(password);
    await client.getByRole("button", { name: "Sign and share" }).click();
    await client.getByText("Waiting for the therapist").waitFor();
    const secondInvitation = await newLinkFromMailbox(base, "tessa@example.com", (l) => l !== firstInvitation && l.startsWith("/accept-invitation#"));
    await therapist.goto(secondInvitation);
    await therapist.getByRole("button", { name: "Decline invitation" }).click();
    await therapist.getByRole("group", { name: "Decline this invitation?" }).waitFor();
    await screen(therapist, "invitation-decline");
    // The confirm button has the focus: the keyboard decides.
    await therapist.keyboard.press("Enter");
    await therapist.getByRole("heading", { name: "Invitation declined" }).waitFor();
    await screen(therapist, "invitation-declined");
    expect(!therapist.url().includes("#token="), "the spent token stays in the address bar");
    await client.reload();
    await client.getByText("You share nothing with anyone.").waitFor();
    // The link is spent: opening it again and accepting is refused.
    await therapist.goto("about:blank");
    await therapist.goto(secondInvitation);
    await therapist.getByLabel("Password", { exact: true }).fill(password);
    await therapist.getByRole("button", { name: "Accept invitation" }).click();
    await therapist.getByText("This invitation has already been used.").waitFor();
    log("therapist declined a second consent straight from the e-mailed link; the client's portal shows no sharing");

    // --- The coach sees the disclosure log.
    await coach.getByRole("link", { name: "Maya Client" }).click();
    const logTable = coach.getByRole("table");
    await logTable.getByRole("cell", { name: "Tessa Therapist" }).first().waitFor();
    log("coach sees the disclosure log");

    // --- The client takes a copy of their data, asks for erasure and cancels, and takes their history along.
    await client.goto("/portal");
    await client.getByRole("link", { name: "Your data and privacy" }).click();
    await client.getByRole("heading", { name: "Your data", exact: true }).waitFor();
    await client.getByRole("button", { name: "Export my data" }).click();
    // Exporting needs a fresh sign-in: the password comes first.
    await client.getByLabel("Your password").fill(password);
    await client.getByRole("button", { name: "Export my data" }).click();
    const zipLink = client.getByRole("link", { name: "Download the ZIP" });
    await zipLink.waitFor({ timeout: 20_000 });
    const [zipDownload] = await Promise.all([client.waitForEvent("download"), zipLink.click()]);
    const zip = readFileSync(await zipDownload.path());
    expect(zip.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])), "the export is not a ZIP");
    expect(zip.includes("manifest.json"), "the export has no manifest.json");
    await client.getByText(/Downloaded\. The link worked once/).waitFor();
    log(`client exported their data after the password: a ZIP of ${zip.length} bytes with manifest.json`);

    await client.getByRole("button", { name: "Ask to erase my record" }).click();
    await client.getByRole("button", { name: "Yes, erase my record after the cooling-off period" }).click();
    await client.getByText(/Your data will be erased on/).waitFor();
    log(`client asked for erasure: ${(await client.getByText(/Your data will be erased on/).textContent()).slice(0, 90)}`);

    const [bundleDownload] = await Promise.all([client.waitForEvent("download"), client.getByRole("button", { name: "Download my history" }).click()]);
    const bundlePath = await bundleDownload.path();
    const bundle = JSON.parse(readFileSync(bundlePath, "utf8"));
    expect(bundle.format === "tandem-history-bundle/1" && bundle.signature.length === 86, "the history bundle is not a signed bundle");
    await client.getByLabel("History file (.json)").setInputFiles(bundlePath);
    await client.getByRole("button", { name: "Import", exact: true }).click();
    await client.getByText("Imported. The signature checked out.").waitFor();
    await client.getByText("Signature verified").waitFor();
    await screen(client, "portal-your-data");
    log("client downloaded the signed history bundle and imported it");

    // The pending request is read back after a reload, by the client and by the coach (the owner here).
    await client.reload();
    await client.getByRole("heading", { name: "Your data", exact: true }).waitFor();
    await client.getByText(/Your data will be erased on/).waitFor();
    await coach.reload();
    await coach.getByText(/Maya Client's data will be erased on/).waitFor();
    log("after a reload the client and the coach still see the erasure scheduled");

    await client.getByRole("button", { name: "Cancel my erasure request" }).click();
    await client.getByText("Your erasure request is cancelled. Nothing was changed.").waitFor();
    await client.getByRole("button", { name: "Remove", exact: true }).click();
    await client.getByRole("button", { name: "Yes, remove it" }).click();
    await client.getByText("Nothing imported.").waitFor();
    log("client cancelled the erasure and removed the imported history");

    // --- The owner keeps the logs longer and sees it saved.
    await coach.getByRole("link", { name: "Practice" }).click();
    await coach.getByRole("heading", { name: "Retention" }).waitFor();
    const logYears = coach.getByLabel("Keep disclosure and audit logs for (years)");
    await logYears.fill("8");
    await coach.getByRole("button", { name: "Save retention settings" }).click();
    await coach.getByText("Saved.", { exact: true }).waitFor();
    await screen(coach, "coach-practice");
    await coach.reload();
    await coach.getByRole("heading", { name: "Retention" }).waitFor();
    await coach.getByText(/Last changed/).waitFor();
    expect((await logYears.inputValue()) === "8", "the retention setting was not kept");
    log("owner changed the log retention to 8 years and it was saved (with If-Match)");

    // --- The owner reads the audit log, filtered by action: the client's creation is there.
    await coach.getByRole("heading", { name: "Audit log" }).waitFor();
    const auditEvents = coach.getByRole("region", { name: "Audit events" });
    await auditEvents.getByText("retention.updated").first().waitFor();
    await coach.getByLabel("Action", { exact: true }).selectOption("client.created");
    await auditEvents.getByText("client.created").first().waitFor();
    expect((await auditEvents.getByText("retention.updated").count()) === 0, "the audit log filter by action kept other actions");
    await auditEvents.getByText("Carla Coach (owner)").first().waitFor();
    log("owner found the client's creation in the audit log, filtered by action");

    // --- Signing out in one tab signs out the others.
    const second = await coach.context().newPage();
    await second.goto("/coach");
    await second.getByRole("heading", { name: "Dashboard" }).waitFor();
    await coach.getByRole("button", { name: "Sign out" }).click();
    await coach.waitForURL("**/signin");
    await second.waitForURL("**/signin");
    log("signing out in one tab signed out the other");

    // --- The client forgets the password, resets it from the e-mailed link and signs in with the new one.
    const forgetful = await newPage("client, later");
    await forgetful.goto("/signin");
    await forgetful.getByRole("link", { name: "Forgot your password?" }).click();
    await forgetful.getByRole("heading", { name: "Reset your password" }).waitFor();
    await screen(forgetful, "forgot-password");
    await forgetful.getByLabel("E-mail", { exact: true }).fill("maya@example.com");
    await forgetful.getByRole("button", { name: "Send the link" }).click();
    await forgetful.getByRole("status").waitFor();
    const resetLink = await newLinkFromMailbox(base, "maya@example.com", (l) => l.startsWith("/reset-password#token="));
    await forgetful.goto(resetLink);
    await forgetful.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await screen(forgetful, "reset-password");
    await forgetful.getByLabel("New password").fill("short");
    await forgetful.getByRole("button", { name: "Save the new password" }).click();
    await forgetful.locator(".field-error").first().waitFor();
    expect((await forgetful.getByLabel("New password").getAttribute("aria-invalid")) === "true", "the new password field is not marked invalid");
    const newPassword = "a new and steady current";
    await forgetful.getByLabel("New password").fill(newPassword);
    await forgetful.getByRole("button", { name: "Save the new password" }).click();
    await forgetful.getByRole("heading", { name: "Password changed" }).waitFor();
    await forgetful.getByRole("link", { name: "Sign in" }).click();
    await forgetful.getByLabel("E-mail", { exact: true }).fill("maya@example.com");
    await forgetful.getByLabel("Password", { exact: true }).fill(newPassword);
    await forgetful.getByRole("button", { name: "Sign in" }).click();
    await forgetful.getByRole("heading", { name: "Hello, Maya" }).waitFor();
    log("client reset a forgotten password from the e-mailed link and signed in with the new one");
  } catch (e) {
    await keepFailure(log);
    throw e;
  } finally {
    await close();
  }
}

// billingJourney runs against a server with billing on (stripe-mock as
// Stripe, the example plans, Solo the trial plan): the owner sees the
// trial and the usage, subscribes, and is sent to the Checkout page
// stripe-mock made up. Stripe's site is never loaded: the network is
// closed, so the navigation to it is answered here.
export async function billingJourney({ browser, base, shots, axeSource, log }) {
  const { newPage, screen, keepFailure, close } = browserTools({ browser, base, shots, axeSource });
  try {
    const owner = await newPage("owner");
    await owner.goto("/register");
    await owner.getByLabel("Practice name").fill("Brightside Coaching");
    await owner.getByLabel("Your name").fill("Olga Owner");
    await owner.getByLabel("E-mail", { exact: true }).fill("olga@example.com");
    await owner.getByLabel("Password", { exact: true }).fill(password);
    await owner.getByRole("button", { name: "Create practice" }).click();
    await owner.getByRole("heading", { name: "Check your mailbox" }).waitFor();
    await owner.goto(await linkFromMailbox(base, "olga@example.com"));
    await owner.getByRole("button", { name: "Confirm my address" }).click();
    await owner.getByText(/confirmed/i).first().waitFor();
    await owner.goto("/signin");
    await owner.getByLabel("E-mail", { exact: true }).fill("olga@example.com");
    await owner.getByLabel("Password", { exact: true }).fill(password);
    await owner.getByRole("button", { name: "Sign in" }).click();
    await owner.getByRole("heading", { name: "Dashboard" }).waitFor();

    await owner.getByRole("link", { name: "Practice", exact: true }).click();
    await owner.getByRole("link", { name: "See plan and billing" }).click();
    await owner.getByRole("heading", { name: "Plan and billing" }).waitFor();
    await owner.getByText(/^Free trial until /).waitFor();
    expect((await owner.locator(".plan-name").textContent()) === "Solo", "the trial plan is not Solo");
    await owner.getByText("0 of 15 active clients").waitFor();
    await owner.getByText("0 of 10 therapist connections").waitFor();
    await owner.getByRole("button", { name: "Subscribe to Team" }).waitFor();
    expect((await owner.getByRole("button", { name: "Manage card, plan or cancel" }).count()) === 0, "the portal is offered before any checkout");
    await screen(owner, "billing");
    log("owner sees the trial and the usage against Solo's limits");

    let checkout = null;
    await owner.route("https://checkout.stripe.com/**", (route) => {
      checkout = route.request().url();
      return route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Checkout</title><h1>Stripe Checkout (stand-in)</h1>" });
    });
    await owner.getByRole("button", { name: "Subscribe to Practice" }).click();
    await owner.waitForURL(/^https:\/\/checkout\.stripe\.com\/pay\//);
    expect(checkout && /\/pay\/c\/cs_test_/.test(checkout), `not sent to stripe-mock's Checkout URL: ${checkout}`);
    log(`owner subscribing was sent to Checkout: ${checkout.slice(0, 60)}…`);

    // Back from Checkout: the page thanks, and now the portal opens.
    await owner.goto("/billing?checkout=success");
    await owner.waitForURL("**/coach/billing?checkout=success");
    await owner.getByText(/as soon as Stripe confirms the payment/).waitFor();
    await owner.getByRole("button", { name: "Manage card, plan or cancel" }).waitFor();
    log("back from Checkout, the owner is thanked and offered the portal");
  } catch (e) {
    await keepFailure(log);
    throw e;
  } finally {
    await close();
  }
}

async function checkAxe(page, name, axeSource) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length > 0) throw new Error(`${name}: axe found ${bad.map((v) => `${v.id} (${v.impact}) at ${v.nodes.join(", ")}`).join("; ")}`);
}
