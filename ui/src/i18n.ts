// Translations and locale formats. Every string the clerk sees comes from locales/*.json;
// dates, numbers and money go through Intl with the chosen language's locale.

import en from "../locales/en.json";
import fr from "../locales/fr.json";

export type Lang = "en" | "fr";
export const LANGS: Lang[] = ["en", "fr"];

type Catalog = Record<string, string>;
const catalogs: Record<Lang, Catalog> = { en, fr };
const locales: Record<Lang, string> = { en: "en-GB", fr: "fr-FR" };

let current: Lang = "en";
const listeners = new Set<() => void>();

export function lang(): Lang {
  return current;
}

export function isLang(value: unknown): value is Lang {
  return typeof value === "string" && (LANGS as string[]).includes(value);
}

export function setLang(next: Lang): void {
  if (next === current) return;
  current = next;
  document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

/** Called after every change of language. */
export function onLangChange(listener: () => void): void {
  listeners.add(listener);
}

export function keys(l: Lang): string[] {
  return Object.keys(catalogs[l]);
}

/** Whether `key` has a string in language `l` (not only in English). */
export function has(key: string, l: Lang = current): boolean {
  return key in catalogs[l];
}

const pluralRules = new Map<string, Intl.PluralRules>();

/** The string for `key` in `l`: where `count` is a number and the language has a form of the
 * key for that number's plural category (`key.one`: "1 change", and in French "0 modification"
 * too), that form; else the key's own string, which is the form for most numbers. */
function pattern(key: string, count: string | number | undefined, l: Lang): string | undefined {
  const n = typeof count === "string" && count.trim() !== "" ? Number(count) : count;
  if (typeof n === "number" && Number.isFinite(n)) {
    const rules = memo(pluralRules, locales[l], {}, () => new Intl.PluralRules(locales[l]));
    const form = catalogs[l][`${key}.${rules.select(n)}`];
    if (form !== undefined) return form;
  }
  return catalogs[l][key];
}

/** The string for `key`, with `{name}` placeholders filled from `params`; a `count` among them
 * chooses the singular or plural form. */
export function t(key: string, params: Record<string, string | number> = {}, l: Lang = current): string {
  const template = pattern(key, params.count, l) ?? pattern(key, params.count, "en");
  if (template === undefined) return `⟨${key}⟩`;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** A catalogue text (one string per language) in the current language. */
export function text(value: Record<string, string> | undefined | null, l: Lang = current): string {
  if (!value) return "";
  return value[l] ?? value.en ?? Object.values(value)[0] ?? "";
}

export function locale(l: Lang = current): string {
  return locales[l];
}

// Formatters are made once per locale and options, not per value: each holds ICU data that
// JavaScriptCore frees only when its collector runs, and screens format dates and amounts
// on every redraw.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();

function memo<F>(cache: Map<string, F>, locale: string, options: object, make: () => F): F {
  const key = `${locale} ${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (format === undefined) {
    format = make();
    cache.set(key, format);
  }
  return format;
}

function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return memo(numberFormats, locale, options, () => new Intl.NumberFormat(locale, options));
}

function dateFormat(l: Lang, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return memo(dateFormats, locales[l], options, () => new Intl.DateTimeFormat(locales[l], options));
}

/** A number as the locale writes it, with at most `fractionDigits` digits after the mark. */
export function formatNumber(n: number, l: Lang = current, fractionDigits = 3): string {
  return numberFormat(locales[l], { maximumFractionDigits: fractionDigits }).format(n);
}

/** Digits after the decimal mark for `currency` (2 for EUR, 0 for JPY). */
export function currencyDigits(currency: string): number {
  return numberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** An amount held in minor units (cents), as the locale writes money. */
export function formatMoney(minor: number, currency: string, l: Lang = current): string {
  const digits = currencyDigits(currency);
  return numberFormat(locales[l], { style: "currency", currency }).format(minor / 10 ** digits);
}

const collators = new Map<string, Intl.Collator>();

/** Compares two texts as the language sorts them. */
export function compareText(a: string, b: string, l: Lang = current): number {
  return memo(collators, locales[l], {}, () => new Intl.Collator(locales[l])).compare(a, b);
}

/** An amount typed by the clerk, read, or what was wrong with it in the clerk's words. */
export type AmountReading = { ok: true; amount: string } | { ok: false; problem: string };

/** The decimal mark of each language, and the marks it may put between thousands. */
const marks: Record<Lang, { decimal: string; groups: string[] }> = {
  en: { decimal: ".", groups: [","] },
  fr: { decimal: ",", groups: ["."] },
};

const escape = (mark: string): string => mark.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * An amount of `currency` as the clerk typed it, read as language `l` writes numbers, in the form
 * the core reads (12.50). Spaces, the currency's sign and its code may be typed, so the amount
 * due as the screen shows it ("€77.40", "77,40 €") is taken back as it is. The other language's
 * decimal mark is taken only between groups of three digits ("1,234.50" in English); anywhere
 * else ("8,6" in English) the amount could be read two ways, and it is refused rather than
 * guessed.
 */
export function readAmount(typed: string, currency: string, l: Lang = current): AmountReading {
  const sign = numberFormat(locales[l], { style: "currency", currency })
    .formatToParts(0)
    .find((p) => p.type === "currency")?.value;
  let plain = typed.replace(/\s/g, "");
  for (const mark of [sign, currency, currency.toLowerCase()]) if (mark) plain = plain.split(mark).join("");
  if (plain === "") return { ok: false, problem: t("amount.empty", { example: amountForInput(1250, currency, l) }, l) };
  const { decimal, groups } = marks[l];
  const group = `(?:${groups.map(escape).join("|")})`;
  const grouped = new RegExp(`^\\d{1,3}(?:${group}\\d{3})+(?:${escape(decimal)}\\d+)?$`);
  const simple = new RegExp(`^\\d+(?:${escape(decimal)}\\d+)?$`);
  if (simple.test(plain) || grouped.test(plain)) {
    const amount = plain.split(new RegExp(group)).join("").replace(decimal, ".");
    return { ok: true, amount };
  }
  const other = new RegExp(`^\\d+${group}\\d+$`);
  if (other.test(plain)) {
    const [whole, cents] = plain.split(new RegExp(group));
    return {
      ok: false,
      problem: t("amount.ambiguous", { typed: typed.trim(), decimal: `${whole}${decimal}${cents.padEnd(currencyDigits(currency), "0")}`, whole: `${whole}${cents}` }, l),
    };
  }
  return { ok: false, problem: t("amount.not_a_number", { typed: typed.trim(), example: amountForInput(1250, currency, l) }, l) };
}

/** An amount in minor units as the clerk would type it in this locale (12,50 in French). */
export function amountForInput(minor: number, currency: string, l: Lang = current): string {
  const digits = currencyDigits(currency);
  const plain = (minor / 10 ** digits).toFixed(digits);
  return l === "fr" ? plain.replace(".", ",") : plain;
}

/** A calendar day (YYYY-MM-DD) in the locale's long-enough form. */
export function formatDate(day: string, l: Lang = current): string {
  const [y, m, d] = day.split("-").map(Number);
  if (!y || !m || !d) return day;
  return dateFormat(l, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A calendar day (YYYY-MM-DD) as the window's date fields take it: DD/MM/YYYY. */
export function dayForInput(day: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : day;
}

/** The centre's time zone (an IANA name): moments are shown in it, whatever the machine's. */
let centreZone: string | undefined;

/** Shows moments in the centre's time zone from now on (the machine's when none is given). */
export function setTimeZone(zone: string | undefined): void {
  centreZone = zone;
}

/** The machine's own time zone, which a new standalone centre is offered first. */
export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** A moment (RFC 3339) as a date and time in the centre's time zone. */
export function formatDateTime(at: string, l: Lang = current): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return at;
  return dateFormat(l, { dateStyle: "short", timeStyle: "short", timeZone: centreZone }).format(date);
}

/** A moment (RFC 3339) as a time of day in the centre's time zone. */
export function formatTime(at: string, l: Lang = current): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return at;
  return dateFormat(l, { timeStyle: "short", timeZone: centreZone }).format(date);
}

/** A duration as m:ss, or h:mm:ss from an hour on. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}
