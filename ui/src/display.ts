// The waiting room's display, on a wall screen: the ticket called last and to which counter,
// big enough to read across the room, the few calls before it, and how many wait; each word
// in every language of the centre, and a chime at each new call. It reads the day's calls
// from this workstation's queue every second, so it works offline; while nobody has Guichet
// open here it says the counters are closed and keeps the last calls dimmed.

import { api, type Call, type CallingBoard } from "./api";
import { fill, h } from "./dom";
import { fullScreenButton } from "./fullscreen";
import { LANGS, formatTime, setTimeZone, t } from "./i18n";

/** How often the board is read again. */
export const BOARD_EVERY_MS = 1000;

/** A call, as one key: a recall of the same ticket is a new call. */
export function callKey(call: Call): string {
  return `${call.code}|${call.counter}|${call.calls}|${call.at}`;
}

/** The calls of `board` that `before` did not show, newest first. */
export function newCalls(before: CallingBoard | null, board: CallingBoard): Call[] {
  if (before === null) return [];
  const seen = new Set(before.calls.map(callKey));
  return board.calls.filter((c) => !seen.has(callKey(c)));
}

/** `key` in every language of the centre, one line each, the first larger. */
function everyLanguage(key: string, params: Record<string, string | number> = {}): HTMLElement[] {
  return LANGS.map((l, i) => h("span", { class: i === 0 ? "first" : "other", lang: l }, t(key, params, l)));
}

/** A short chime of two tones; silent where the machine has no sound. */
function chime(): void {
  const Context = window.AudioContext;
  if (!Context) return;
  const audio = new Context();
  [880, 660].forEach((pitch, i) => {
    const tone = audio.createOscillator();
    const volume = audio.createGain();
    const start = audio.currentTime + i * 0.35;
    tone.frequency.value = pitch;
    volume.gain.setValueAtTime(0.25, start);
    volume.gain.exponentialRampToValueAtTime(0.001, start + 0.6);
    tone.connect(volume).connect(audio.destination);
    tone.start(start);
    tone.stop(start + 0.6);
  });
  window.setTimeout(() => void audio.close(), 1500);
}

export interface DisplayParts {
  /** Draws a board read now; `fresh` are its calls the last one did not show. */
  draw(board: CallingBoard, fresh: Call[]): void;
  /** The board could not be read: the counters are closed here. */
  closed(): void;
}

/** The display's elements in `root`. */
export function displayParts(root: HTMLElement): DisplayParts {
  const title = h("h1", { id: "display-centre" });
  const now = h("section", { id: "display-now", class: "display-now", "aria-labelledby": "display-now-title" });
  const list = h("ol", { id: "display-calls", class: "display-calls" });
  const waiting = h("p", { id: "display-waiting", class: "display-waiting" });
  const state = h("p", { id: "display-state", class: "display-state", role: "status" });
  // What a screen reader says at each call; the big card is drawn for the eyes.
  const announce = h("p", { class: "visually-hidden", "aria-live": "assertive", id: "display-announce" });
  const full = fullScreenButton("display-full-screen", "display-full", t("display.full_screen"));
  fill(
    root,
    h(
      "main",
      { class: "display", "aria-labelledby": "display-centre" },
      h("header", { class: "display-head" }, title, full),
      now,
      h("section", { class: "display-last", "aria-labelledby": "display-last-title" }, h("h2", { id: "display-last-title" }, ...everyLanguage("display.last_calls")), list),
      waiting,
      state,
      announce,
    ),
  );
  return {
    draw(board, fresh) {
      root.classList.remove("closed");
      setTimeZone(board.time_zone);
      title.textContent = board.center_name;
      state.textContent = "";
      const [latest, ...before] = board.calls;
      if (latest === undefined) {
        fill(now, h("h2", { id: "display-now-title", class: "visually-hidden" }, t("display.now")), h("p", { class: "display-none" }, ...everyLanguage("display.none")));
      } else {
        fill(
          now,
          h("h2", { id: "display-now-title", class: "visually-hidden" }, t("display.now")),
          h("p", { class: "display-code", id: "display-now-code" }, latest.code),
          h("p", { class: "display-arrow", "aria-hidden": "true" }, "→"),
          h("p", { class: "display-counter", id: "display-now-counter" }, latest.counter_name),
          h("p", { class: "display-go" }, ...everyLanguage("display.go", { code: latest.code, counter: latest.counter_name })),
        );
        now.classList.toggle("fresh", fresh.length > 0);
      }
      fill(
        list,
        before.map((c) =>
          h(
            "li",
            {},
            h("span", { class: "code" }, c.code),
            h("span", { class: "counter" }, c.counter_name),
            h("time", { datetime: c.at }, formatTime(c.at)),
          ),
        ),
      );
      fill(waiting, ...everyLanguage("display.waiting", { count: board.waiting }));
      if (fresh.length > 0) {
        announce.textContent = fresh.map((c) => t("display.go", { code: c.code, counter: c.counter_name })).join(" ");
      }
    },
    closed() {
      root.classList.add("closed");
      fill(state, ...everyLanguage("display.closed"));
    },
  };
}

/** Runs the display in `root`: reads the board every second, chimes at each new call. */
export function callingDisplay(root: HTMLElement): void {
  const parts = displayParts(root);
  let shown: CallingBoard | null = null;
  async function read(): Promise<void> {
    try {
      const board = await api.callingBoard();
      const fresh = newCalls(shown, board);
      parts.draw(board, fresh);
      if (fresh.length > 0) chime();
      shown = board;
    } catch {
      parts.closed();
    }
    document.body.dataset.ready = "true";
  }
  // The next read is asked a second after the last one answered, never while it waits.
  const loop = async (): Promise<void> => {
    await read();
    window.setTimeout(() => void loop(), BOARD_EVERY_MS);
  };
  void loop();
}
