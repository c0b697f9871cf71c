// The window's start: Guichet is asked first whether it could start. When it could not (a data
// directory it cannot write, a damaged database), the trouble screen says what is wrong and
// what to do, and nothing else runs; otherwise the window itself (window.ts).

import "./style.css";
import { api } from "./api";
import { isLang, setLang } from "./i18n";
import { troubleScreen } from "./screens/trouble";

const saved = localStorage.getItem("guichet.lang");
if (isLang(saved)) setLang(saved);

const problem = await api.startProblem();
if (problem) {
  troubleScreen(document.getElementById("app")!, problem);
  document.body.dataset.ready = "true";
} else {
  await import("./window");
}
