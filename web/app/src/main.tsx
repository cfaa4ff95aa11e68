// The entry point: start the session's requests first, then load the app.
// The app's files download meanwhile (index.html preloads them, see
// vite.config.ts).
import { startSession } from "./boot";
import "./styles.css";

const boot = startSession();
const root = document.getElementById("root")!;

// The app is evaluated once the start-up requests are all out (boot.me
// settles after the portal's reads have been sent). Evaluating React and
// the app is one long task on the main thread; started earlier, it would
// hold each answer of the refresh → /me → portal chain until it ended, and
// the chain would then run after it instead of beside it. React then
// mounts with the session known, so its first render is the page itself.
boot.me
  .catch(() => null)
  .then(() => import("./app"))
  .then(
    ({ mountApp }) => mountApp(root, boot),
    () => {
      // A deploy replaced the files this page refers to, or the network failed.
      root.textContent = "Tandem could not load. Reload the page to try again.";
    },
  );
