// When Guichet cannot start (a data directory it cannot write, a damaged database, data from
// a newer version), the window says what is wrong and what to do, in the clerk's language,
// with the one or two things that can be done from here: try again once the cause is fixed,
// or keep a damaged database aside and start again. Nothing else of the window runs.

import { api, type StartProblem } from "../api";
import { fill, h } from "../dom";
import { t } from "../i18n";
import { explain } from "../messages";

/** The words of the trouble screen for `p`: its title, what is wrong, what to do. */
export function troubleWords(p: StartProblem): { title: string; what: string; todo: string } {
  const dir = p.data_dir ?? "";
  switch (p.kind) {
    case "data_dir":
      return p.data_dir
        ? { title: t("trouble.title"), what: t("trouble.data_dir", { dir }), todo: t("trouble.data_dir_todo") }
        : { title: t("trouble.title"), what: t("trouble.no_dir"), todo: t("trouble.no_dir_todo") };
    case "damaged":
      return {
        title: t("trouble.damaged_title"),
        what: t("trouble.damaged", { dir }),
        todo: p.owner.server
          ? t("trouble.damaged_enrolled", { server: p.owner.server, device: p.owner.device_code ?? "?" })
          : t("trouble.damaged_standalone"),
      };
    case "newer":
      return { title: t("trouble.title"), what: t("trouble.newer", { dir }), todo: t("trouble.newer_todo") };
    default:
      return { title: t("trouble.title"), what: t("trouble.other", { dir }), todo: t("trouble.other_todo") };
  }
}

/** Draws the trouble screen for `problem` in `root`, in place of the window. */
export function troubleScreen(root: HTMLElement, problem: StartProblem): void {
  const main = h("main", { id: "main", tabindex: -1 });
  fill(root, main);
  draw(main, problem, false);
}

function draw(main: HTMLElement, problem: StartProblem, again: boolean): void {
  const words = troubleWords(problem);
  const error = h("p", { class: "error", role: "alert", id: "trouble-error" }, again ? t("trouble.still") : "");
  const buttons: HTMLButtonElement[] = [];
  /** Runs `step`; Guichet runs now when it answers nothing, else the screen says what is left. */
  const attempt = (step: () => Promise<StartProblem | null>) => async () => {
    for (const b of buttons) b.disabled = true;
    try {
      const left = await step();
      if (left === null) {
        location.reload();
        return;
      }
      draw(main, left, true);
    } catch (err) {
      error.textContent = explain(err);
      for (const b of buttons) b.disabled = false;
    }
  };
  const damaged = problem.kind === "damaged";
  // A database of a newer release, or no home folder to keep the data in: nothing changes
  // until Guichet is started again (updated, or told where to keep its data), so there is
  // no trying again, only quitting.
  const restartOnly = problem.kind === "newer" || (problem.kind === "data_dir" && !problem.data_dir);
  if (damaged) {
    buttons.push(
      h("button", { type: "button", class: "primary", id: "trouble-keep-aside", onclick: attempt(api.keepAside) }, t("trouble.keep_aside")),
    );
  } else if (!restartOnly) {
    buttons.push(h("button", { type: "button", class: "primary", id: "trouble-retry", onclick: attempt(api.retryStart) }, t("trouble.retry")));
  }
  const quit = (): void => {
    api.quit().catch((err: unknown) => {
      error.textContent = explain(err);
    });
  };
  buttons.push(h("button", { type: "button", id: "trouble-quit", class: restartOnly ? "primary" : null, onclick: quit }, t("trouble.quit")));
  fill(
    main,
    h(
      "section",
      { class: "screen trouble", id: "start-problem", "data-kind": problem.kind, "aria-labelledby": "trouble-title" },
      h(
        "div",
        { class: "card" },
        h("h1", { id: "trouble-title" }, words.title),
        h("p", { id: "trouble-what" }, words.what),
        h("p", { class: "muted", id: "trouble-detail" }, t("trouble.detail", { detail: problem.detail })),
        h("p", { id: "trouble-todo" }, words.todo),
        error,
        h("div", { class: "actions" }, buttons),
      ),
    ),
  );
  buttons[0].focus();
}
