// The core's errors and form problems in the clerk's language. The core sends its English
// words with a key of the locale files and the values that key's template quotes (see
// guichet_domain::message); the window shows the template in the current language, or the
// English words when the current language has no template for a key it needs.

import type { FieldProblem, Money, Text } from "./api";
import { formatDate, formatMoney, has, t, text } from "./i18n";

/** A value a message quotes: text as it is, words the window translates (locale keys, read as a
 * list), catalogue names in every language (read as a list), an amount, or a message inside the
 * message. */
export type Arg = string | string[] | Text[] | Money | Message;

export interface Message {
  key: string;
  args: Record<string, Arg>;
}

/** An error from the shell: the core's English, and the key and values to translate it from. */
export class CoreError extends Error {
  readonly key: string | null;
  readonly args: Record<string, Arg>;

  constructor(message: string, key: string | null = null, args: Record<string, Arg> = {}) {
    super(message);
    this.name = "CoreError";
    this.key = key;
    this.args = args;
  }
}

/** What a command's promise is rejected with, as an Error: the shell sends
 * `{ message, key?, args? }`; Tauri's own failures (an argument it cannot read) are strings. */
export function fromShell(e: unknown): Error {
  if (typeof e === "string") return new CoreError(e);
  if (e instanceof Error) return e;
  if (typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string") {
    const { message, key, args } = e as { message: string; key?: string; args?: Record<string, Arg> };
    return new CoreError(message, key ?? null, args ?? {});
  }
  return new CoreError(String(e));
}

/** A message in the current language, or null when a key it needs has no translation there. */
export function say(message: Message): string | null {
  if (!has(message.key)) return null;
  const values: Record<string, string> = {};
  for (const [name, arg] of Object.entries(message.args)) {
    const value = argText(arg);
    if (value === null) return null;
    values[name] = value;
  }
  return t(message.key, values);
}

/** Whether `value` is a calendar day as the core quotes one (2020-01-01), not merely shaped
 * like one (what a clerk typed, 2020-02-31, is quoted as typed). */
function isDay(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

function argText(arg: Arg): string | null {
  // The window writes a day its own way, not as the core quotes it.
  if (typeof arg === "string") return isDay(arg) ? formatDate(arg) : arg;
  if (Array.isArray(arg)) {
    const items: (string | Text)[] = arg;
    const names = items.filter((item): item is Text => typeof item !== "string");
    if (names.length > 0) return names.map((name) => text(name)).join(", ");
    const keys = items.filter((item): item is string => typeof item === "string");
    return keys.every((key) => has(key)) ? keys.map((key) => t(key)).join(", ") : null;
  }
  if ("minor" in arg) return formatMoney(arg.minor, arg.currency);
  return say(arg);
}

/** What the clerk reads for a failed action: the core's refusal in the current language when it
 * can be said there, else its English words. */
export function explain(err: unknown): string {
  if (err instanceof CoreError) return (err.key && say({ key: err.key, args: err.args })) || err.message;
  return err instanceof Error ? err.message : String(err);
}

/** A form field's problem in the current language, else the core's English words. */
export function explainProblem(problem: FieldProblem): string {
  return say(problem) ?? problem.problem;
}
