// A very small DOM builder: the screens are plain functions that return elements.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (key === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
    } else if (key === "checked" && el instanceof HTMLInputElement) {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: (Child | Child[])[]): void {
  for (const child of children) {
    if (Array.isArray(child)) append(el, child);
    else if (child === null || child === undefined || child === false) continue;
    else el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el`. */
export function fill(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
/** A fresh id for tying a label or a message to its field. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled field: the label names it for screen readers; the message below is announced. */
export function field(label: string, input: HTMLElement, message?: HTMLElement): HTMLElement {
  const id = input.id || uid("f");
  input.id = id;
  if (message) {
    message.id = message.id || uid("m");
    input.setAttribute("aria-describedby", message.id);
  }
  return h("div", { class: "field" }, h("label", { for: id }, label), input, message ?? null);
}

/** Keeps Tab and Shift+Tab inside `dialog`: they go round the controls `controls()` lists (first
 * to last and back), and a Tab from anywhere else comes back to the first. */
export function trapFocus(dialog: HTMLElement, controls: () => HTMLElement[]): void {
  dialog.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const list = controls();
    if (list.length === 0) return;
    const first = list[0];
    const last = list[list.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    } else if (!dialog.contains(document.activeElement)) {
      e.preventDefault();
      first.focus();
    }
  });
}

/** How long a press waits before its button shows it is busy. A login or an unlock stretches
 * the password on every core and usually answers sooner: nothing is drawn meanwhile, as a frame
 * drawn then would take the cores from it. */
export const BUSY_SHOWN_AFTER_MS = 150;

const busyButtons = new WeakSet<HTMLButtonElement>();

/** Whether `button`'s work is still running (a second press is refused). */
export function isBusy(button: HTMLButtonElement): boolean {
  return busyButtons.has(button);
}

/** Runs `work` for `button`'s press: busy at once, shown disabled only if it takes longer
 * than {@link BUSY_SHOWN_AFTER_MS}, enabled again when it ends either way. */
export async function whileBusy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  busyButtons.add(button);
  const shown = setTimeout(() => {
    button.disabled = true;
  }, BUSY_SHOWN_AFTER_MS);
  try {
    return await work();
  } finally {
    clearTimeout(shown);
    busyButtons.delete(button);
    button.disabled = false;
  }
}

type Typed = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A field's name for `typedIn` and `typeAgain`: its form's id and its own name (a radio
 * button's with its value), else its id when it has no name (`field` gives each unnamed
 * control an id of its own, made anew with the screen). */
function typedKey(field: Typed): string | null {
  if (!field.name) return field.id ? `#${field.id}` : null;
  const name = field instanceof HTMLInputElement && field.type === "radio" ? `${field.name}=${field.value}` : field.name;
  return `${field.form?.id ?? ""} ${name}`;
}

function ticks(field: Typed): field is HTMLInputElement {
  return field instanceof HTMLInputElement && (field.type === "checkbox" || field.type === "radio");
}

/** The forms whose fields a screen made again (in another language) takes back as they were
 * typed: forms that only hold what is typed until they are sent, whose fields act on nothing
 * as they change (not an amount read in the language's own way, not a box that records a
 * document). */
export const KEEP_TYPED = "data-keep-typed";

/** The fields of the forms marked `KEEP_TYPED` inside `within`. */
function keptFields(within: HTMLElement): NodeListOf<Typed> {
  return within.querySelectorAll<Typed>(`form[${KEEP_TYPED}] :is(input, select, textarea)`);
}

/** What was typed or chosen in the fields of `within`'s forms marked `KEEP_TYPED`, by field
 * (a chosen file cannot be put back, and is left out). */
export function typedIn(within: HTMLElement): Map<string, string | boolean> {
  const typed = new Map<string, string | boolean>();
  for (const field of keptFields(within)) {
    const key = typedKey(field);
    if (key === null || (field instanceof HTMLInputElement && field.type === "file")) continue;
    typed.set(key, ticks(field) ? field.checked : field.value);
  }
  return typed;
}

/** Puts `typed` (from `typedIn`) back into the same fields of a screen made again, in another
 * language, as if typed there: each field that takes it hears its input or change, so the
 * screen follows (a search runs, a mark of a wrong value goes). */
export function typeAgain(within: HTMLElement, typed: Map<string, string | boolean>): void {
  for (const field of keptFields(within)) {
    const key = typedKey(field);
    const was = key === null ? undefined : typed.get(key);
    if (was === undefined) continue;
    if (ticks(field)) {
      if (typeof was !== "boolean" || field.checked === was) continue;
      field.checked = was;
    } else {
      if (typeof was !== "string" || field.value === was) continue;
      field.value = was;
      if (field.value !== was) continue;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }
}
