// The public windows' full-screen button: the waiting room's display and the ticket kiosk
// fill their screens with it.

import { getCurrentWindow } from "@tauri-apps/api/window";
import { h } from "./dom";

/** A button that puts this window in full screen, or out of it. */
export function fullScreenButton(id: string, className: string, label: string): HTMLButtonElement {
  return h(
    "button",
    {
      type: "button",
      id,
      class: className,
      onclick: () =>
        void (async () => {
          const window = getCurrentWindow();
          await window.setFullscreen(!(await window.isFullscreen()));
        })(),
    },
    label,
  );
}
