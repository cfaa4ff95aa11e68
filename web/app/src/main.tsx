// The entry point: start the session's requests first, then load the app.
// The app's files download meanwhile (index.html preloads them, see
// vite.config.ts).
import { startSession } from "./boot";
import "./styles.css";

performance.mark("tandem:entry");
const boot = startSession();
const root = document.getElementById("root")!;

// Evaluating a module graph is one long task on the main thread, which
// holds every answer of the refresh → /me → portal chain that arrives
// meanwhile. So the work is cut in two: React (the larger half) evaluates
// while the refresh is under way, and the app with the rest once the
// start-up requests are all out (boot.me settles after the portal's reads
// have been sent). React then mounts with the session known, so its first
// render is the page itself, not a "signing you in" state.
//
// The app then waits, briefly, for the first screen's reads: rendering it
// once with its data costs one render and one layout on a throttled phone,
// where a render with loading states and another with the data cost two of
// each, and the page would jump. On a slow network the wait ends after
// firstScreenWaitMs and the page shows its loading states meanwhile.
//
// The tandem:* marks time each step (PERF_DEBUG=1 make perf prints them).
const firstScreenWaitMs = 1000;
const react = import("react-dom/client");

async function start(): Promise<void> {
  await boot.me.catch(() => null);
  performance.mark("tandem:session");
  await react;
  performance.mark("tandem:react");
  const { mountApp } = await import("./app");
  performance.mark("tandem:app");
  await Promise.race([boot.ready, new Promise((r) => setTimeout(r, firstScreenWaitMs))]);
  performance.mark("tandem:data");
  mountApp(root, boot);
}

start().catch(() => {
  // A deploy replaced the files this page refers to, or the network failed.
  root.textContent = "Tandem could not load. Reload the page to try again.";
});
