// The entry point: start the session's requests first, then load the app.
// The app's files download meanwhile (index.html preloads them, see
// vite.config.ts).
import { startSession } from "./boot";
import "./styles.css";

const boot = startSession();
const root = document.getElementById("root")!;

// Evaluating a module graph is one long task on the main thread, which
// holds every answer of the refresh → /me → portal chain that arrives
// meanwhile. So the work is cut in two: React (the larger half) evaluates
// while the refresh is under way, and the app with the rest once the
// start-up requests are all out (boot.me settles after the portal's reads
// have been sent). React then mounts with the session known, so its first
// render is the page itself, not a "signing you in" state.
const react = import("react-dom/client");
boot.me
  .catch(() => null)
  .then(() => react)
  .then(() => import("./app"))
  .then(
    ({ mountApp }) => mountApp(root, boot),
    () => {
      // A deploy replaced the files this page refers to, or the network failed.
      root.textContent = "Tandem could not load. Reload the page to try again.";
    },
  );
