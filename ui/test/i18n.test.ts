import { describe, expect, it } from "vitest";
import en from "../locales/en.json";
import fr from "../locales/fr.json";
import {
  amountForInput,
  readAmount,
  compareText,
  dayForInput,
  formatDate,
  formatDuration,
  formatMoney,
  formatNumber,
  keys,
  setLang,
  t,
  text,
} from "../src/i18n";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("translations", () => {
  it("have the same keys in every language", () => {
    expect(keys("fr").sort()).toEqual(keys("en").sort());
  });

  it("keep the same placeholders in every language", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(fr[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("are never empty", () => {
    for (const [key, value] of [...Object.entries(en), ...Object.entries(fr)]) {
      expect(value.trim(), key).not.toBe("");
    }
  });

  it("cover every key the sources use", async () => {
    const { readFileSync, readdirSync } = await import("node:fs");
    const { join } = await import("node:path");
    // The tests run from ui/.
    const dir = join(process.cwd(), "src");
    const files = readdirSync(dir, { recursive: true, encoding: "utf8" });
    const used = new Set<string>();
    for (const file of files.filter((f) => f.endsWith(".ts"))) {
      const source = readFileSync(join(dir, file), "utf8");
      for (const m of source.matchAll(/\bt\("([a-z_.0-9]+)"/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    for (const key of used) expect(en, key).toHaveProperty([key]);
  });

  it("say one thing or several as each language does", () => {
    expect(t("status.waiting", { count: 1 }, "en")).toBe("1 change waiting");
    expect(t("status.waiting", { count: 0 }, "en")).toBe("0 changes waiting");
    expect(t("status.waiting", { count: 2 }, "en")).toBe("2 changes waiting");
    // French takes the singular for 0 and 1, and for 1.5.
    expect(t("status.kept_here", { count: 0 }, "fr")).toBe("0 modification conservée sur ce poste");
    expect(t("status.kept_here", { count: 1.5 }, "fr")).toBe("1.5 modification conservée sur ce poste");
    expect(t("status.kept_here", { count: 2 }, "fr")).toBe("2 modifications conservées sur ce poste");
    expect(t("status.kept_here", { count: 1_000_000 }, "fr")).toBe("1000000 modifications conservées sur ce poste");
    // A count sent as text by the core chooses the form as a number does.
    expect(t("error.form", { count: "1" }, "en")).toBe("the form has 1 problem");
    expect(t("error.form", { count: "3" }, "en")).toBe("the form has 3 problems");
    // Without a count, or with one that is no number, the key's own (plural) string.
    expect(t("status.waiting", {}, "en")).toBe("{count} changes waiting");
    expect(t("status.waiting", { count: "many" }, "en")).toBe("many changes waiting");
  });

  it("give every singular form its plural under the key itself", () => {
    for (const catalog of [en, fr] as Record<string, string>[]) {
      for (const key of Object.keys(catalog).filter((k) => k.endsWith(".one"))) {
        const base = key.slice(0, -".one".length);
        expect(catalog, key).toHaveProperty([base]);
        expect(placeholders(catalog[key]), key).toContain("count");
      }
    }
  });

  it("fill placeholders and switch language while running", () => {
    setLang("en");
    expect(t("status.waiting", { count: 3 })).toBe("3 changes waiting");
    setLang("fr");
    expect(t("status.waiting", { count: 3 })).toBe("3 modifications en attente");
    expect(text({ en: "Passport", fr: "Passeport" })).toBe("Passeport");
    setLang("en");
    expect(text({ en: "Passport", fr: "Passeport" })).toBe("Passport");
    expect(text({ el: "Διαβατήριο" })).toBe("Διαβατήριο");
  });

  it("show a missing key visibly instead of failing", () => {
    expect(t("no.such.key")).toBe("⟨no.such.key⟩");
  });
});

describe("locale formats", () => {
  it("write money from minor units per locale", () => {
    expect(formatMoney(8600, "EUR", "en")).toBe("€86.00");
    // French puts the sign after, with a narrow no-break space before it.
    expect(formatMoney(8600, "EUR", "fr").replace(/\s/g, " ")).toBe("86,00 €");
    expect(formatMoney(500, "JPY", "en")).toBe("JP¥500");
  });

  it("keep each language's format when both are used in turn", () => {
    // The formatters are cached per locale and options: a cached one must never answer for
    // the other language or other options.
    for (let round = 0; round < 2; round++) {
      expect(formatMoney(123456, "EUR", "en")).toBe("€1,234.56");
      expect(formatMoney(123456, "EUR", "fr").replace(/\s/g, " ")).toBe("1 234,56 €");
      expect(formatMoney(123456, "USD", "en")).toBe("US$1,234.56");
      expect(formatNumber(4.25, "en", 1)).toBe("4.3");
      expect(formatNumber(4.25, "fr", 1)).toBe("4,3");
      expect(formatNumber(1234.5, "en")).toBe("1,234.5");
    }
  });

  it("sort texts as the language does, accents with their letter", () => {
    const titles = ["Zone", "État civil", "Eau", "école"];
    expect([...titles].sort((a, b) => compareText(a, b, "fr"))).toEqual(["Eau", "école", "État civil", "Zone"]);
    expect([...titles].sort()).not.toEqual(["Eau", "école", "État civil", "Zone"]);
  });

  it("read amounts as the clerk's language writes them, the amount due as shown included", () => {
    expect(readAmount(" 12.50 ", "EUR", "en")).toEqual({ ok: true, amount: "12.50" });
    expect(readAmount("1,234.5", "EUR", "en")).toEqual({ ok: true, amount: "1234.5" });
    expect(readAmount("1 234.5", "EUR", "en")).toEqual({ ok: true, amount: "1234.5" });
    expect(readAmount("12,50", "EUR", "fr")).toEqual({ ok: true, amount: "12.50" });
    expect(readAmount("1\u202f234,50", "EUR", "fr")).toEqual({ ok: true, amount: "1234.50" });
    expect(readAmount("86", "EUR", "fr")).toEqual({ ok: true, amount: "86" });
    for (const l of ["en", "fr"] as const) {
      const shown = formatMoney(7740, "EUR", l);
      expect(readAmount(shown, "EUR", l)).toEqual({ ok: true, amount: "77.40" });
      expect(readAmount("EUR 77", "EUR", l)).toEqual({ ok: true, amount: "77" });
    }
  });

  it("refuse an amount that reads two ways, saying both, rather than guess", () => {
    expect(readAmount("8,6", "EUR", "en")).toEqual({
      ok: false,
      problem: "“8,6” can be read two ways: type 8.60 (the cents after a point) or 86; nothing was recorded",
    });
    expect(readAmount("77.40", "EUR", "fr")).toEqual({
      ok: false,
      problem: "« 77.40 » peut se lire de deux façons : tapez 77,40 (les centimes après une virgule) ou 7740 ; rien n'a été enregistré",
    });
    expect(readAmount("12,5", "EUR", "en").ok).toBe(false);
    expect(readAmount("twelve", "EUR", "en")).toEqual({
      ok: false,
      problem: "“twelve” is not an amount: type digits, the cents after a point, e.g. 12.50; nothing was recorded",
    });
    expect(readAmount("-5", "EUR", "en").ok).toBe(false);
    expect(readAmount("  ", "EUR", "fr")).toEqual({ ok: false, problem: "Tapez le montant, par exemple 12,50" });
  });

  it("write an amount for a field as the clerk would type it", () => {
    expect(amountForInput(1250, "EUR", "fr")).toBe("12,50");
    expect(amountForInput(1250, "EUR", "en")).toBe("12.50");
  });

  it("write calendar days per locale, whatever the time zone", () => {
    expect(formatDate("2026-03-01", "en")).toBe("1 Mar 2026");
    expect(formatDate("2026-03-01", "fr")).toBe("1 mars 2026");
    expect(formatDate("not a date", "en")).toBe("not a date");
  });

  it("put a calendar day in a date field day first, as the clerk types it", () => {
    expect(dayForInput("2026-03-01")).toBe("01/03/2026");
    expect(dayForInput("01/03/2026")).toBe("01/03/2026");
  });

  it("write waiting times as m:ss, and h:mm:ss past an hour", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(65_400)).toBe("1:05");
    expect(formatDuration(3_600_000 + 61_000)).toBe("1:01:01");
    expect(formatDuration(-5)).toBe("0:00");
  });
});
