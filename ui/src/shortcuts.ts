// Keyboard shortcuts: one table, shown in the help overlay and used by the key handler.

export type Command =
  | "help"
  | "call_next"
  | "new_intake"
  | "search"
  | "screen_queue"
  | "screen_intake"
  | "screen_requests"
  | "screen_dashboard"
  | "sync_now"
  | "lock"
  | "close";

export interface Shortcut {
  keys: string;
  command: Command;
}

export const SHORTCUTS: Shortcut[] = [
  { keys: "F1", command: "help" },
  { keys: "F2", command: "call_next" },
  { keys: "F3", command: "new_intake" },
  { keys: "F4", command: "search" },
  { keys: "Alt+1", command: "screen_queue" },
  { keys: "Alt+2", command: "screen_intake" },
  { keys: "Alt+3", command: "screen_requests" },
  { keys: "Alt+4", command: "screen_dashboard" },
  { keys: "F5", command: "sync_now" },
  { keys: "Ctrl+L", command: "lock" },
  { keys: "Escape", command: "close" },
];

/** The key as the table writes it: "F2", "Alt+1", "Ctrl+L", "Escape". */
export function keyName(e: Pick<KeyboardEvent, "key" | "code" | "altKey" | "ctrlKey" | "shiftKey">): string {
  let key = e.key;
  // With Alt held, some layouts give another character: use the physical digit.
  if (e.altKey && /^Digit\d$/.test(e.code)) key = e.code.slice(5);
  // With Ctrl held, a letter is named in capitals whatever Shift or Caps Lock say; a layout
  // without Latin letters (Greek, Cyrillic) is read by the key's place, as Ctrl+L is there.
  if (e.ctrlKey && key.length === 1) {
    if (/^[a-z]$/i.test(key)) key = key.toUpperCase();
    else if (/^Key[A-Z]$/.test(e.code)) key = e.code.slice(3);
  }
  const mods = [e.ctrlKey ? "Ctrl" : "", e.altKey ? "Alt" : "", e.shiftKey && key.length > 1 ? "Shift" : ""]
    .filter(Boolean)
    .join("+");
  return mods ? `${mods}+${key}` : key;
}

export function commandFor(e: Pick<KeyboardEvent, "key" | "code" | "altKey" | "ctrlKey" | "shiftKey">): Command | null {
  const name = keyName(e);
  return SHORTCUTS.find((s) => s.keys === name)?.command ?? null;
}
