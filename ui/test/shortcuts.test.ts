import { describe, expect, it } from "vitest";
import en from "../locales/en.json";
import { percentile } from "../src/app";
import { commandFor, keyName, SHORTCUTS } from "../src/shortcuts";

const key = (k: Partial<KeyboardEvent>) => ({ key: "", code: "", altKey: false, ctrlKey: false, shiftKey: false, ...k });

describe("shortcuts", () => {
  it("map the keys the help overlay lists", () => {
    expect(commandFor(key({ key: "F2" }))).toBe("call_next");
    expect(commandFor(key({ key: "F3" }))).toBe("new_intake");
    expect(commandFor(key({ key: "F4" }))).toBe("search");
    expect(commandFor(key({ key: "F1" }))).toBe("help");
    expect(commandFor(key({ key: "Escape" }))).toBe("close");
  });

  it("use the physical digit with Alt, whatever the layout gives", () => {
    // On a French AZERTY keyboard Alt+1 gives "&".
    expect(keyName(key({ key: "&", code: "Digit1", altKey: true }))).toBe("Alt+1");
    expect(commandFor(key({ key: "&", code: "Digit1", altKey: true }))).toBe("screen_queue");
    expect(commandFor(key({ key: "3", code: "Digit3", altKey: true }))).toBe("screen_requests");
  });

  it("lock with Ctrl+L, whatever the case or the layout's letters", () => {
    expect(commandFor(key({ key: "l", code: "KeyL", ctrlKey: true }))).toBe("lock");
    expect(commandFor(key({ key: "L", code: "KeyL", ctrlKey: true }))).toBe("lock");
    // A Greek layout gives λ on the same key.
    expect(keyName(key({ key: "λ", code: "KeyL", ctrlKey: true }))).toBe("Ctrl+L");
    expect(commandFor(key({ key: "l", code: "KeyL" }))).toBeNull();
    expect(commandFor(key({ key: "l", code: "KeyL", ctrlKey: true, altKey: true }))).toBeNull();
  });

  it("leave ordinary typing alone", () => {
    expect(commandFor(key({ key: "a" }))).toBeNull();
    expect(commandFor(key({ key: "1" }))).toBeNull();
    expect(commandFor(key({ key: "F2", ctrlKey: true }))).toBeNull();
  });

  it("have unique keys, each described in the help", () => {
    const names = SHORTCUTS.map((s) => s.keys);
    expect(new Set(names).size).toBe(names.length);
    for (const s of SHORTCUTS) expect(en).toHaveProperty([`shortcut.${s.command}`]);
  });
});

describe("percentile", () => {
  it("is the nearest rank", () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 95)).toBe(95);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBe(0);
  });
});
