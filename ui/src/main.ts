// The window's start: Guichet is asked first whether it could start. When it could not (a data
// directory it cannot write, a damaged database), the trouble screen says what is wrong and
// what to do, and nothing else runs; otherwise the window itself (window.ts), or in windows of
// their own the waiting room's display (display.ts) and the ticket kiosk (kiosk.ts).

import "./style.css";
import { api } from "./api";
import { isLang, setLang } from "./i18n";
import { troubleScreen } from "./screens/trouble";

const saved = localStorage.getItem("guichet.lang");
if (isLang(saved)) setLang(saved);

// The waiting room's display (`#display`) and the ticket kiosk (`#kiosk`) are this page in
// windows of their own: they show nothing of the clerk's screens.
if (location.hash === "#display") {
  const { callingDisplay } = await import("./display");
  callingDisplay(document.getElementById("app")!);
} else if (location.hash === "#kiosk") {
  const { ticketKiosk } = await import("./kiosk");
  await ticketKiosk(document.getElementById("app")!).restart();
} else {
  const problem = await api.startProblem();
  if (problem) {
    troubleScreen(document.getElementById("app")!, problem);
    document.body.dataset.ready = "true";
  } else {
    await import("./window");
  }
}
