// The window's start: Guichet is asked first whether it could start. When it could not (a data
// directory it cannot write, a damaged database), the trouble screen says what is wrong and
// what to do, and nothing else runs; otherwise the window itself (window.ts), or the waiting
// room's display (display.ts) in its own window.

import "./style.css";
import { api } from "./api";
import { isLang, setLang } from "./i18n";
import { troubleScreen } from "./screens/trouble";

const saved = localStorage.getItem("guichet.lang");
if (isLang(saved)) setLang(saved);

// The waiting room's display is this page in a window of its own (`#display`): it shows the
// day's calls and nothing of the clerk's screens.
if (location.hash === "#display") {
  const { callingDisplay } = await import("./display");
  callingDisplay(document.getElementById("app")!);
} else {
  const problem = await api.startProblem();
  if (problem) {
    troubleScreen(document.getElementById("app")!, problem);
    document.body.dataset.ready = "true";
  } else {
    await import("./window");
  }
}
