import { describe, expect, it } from "vitest";
import { actionStart, noteInput } from "../src/app";

const input = (timeStamp: number) => ({ timeStamp }) as Event;

describe("an action is timed from the input that started it", () => {
  it("counts from the key or click just before, debounce included", () => {
    noteInput(input(1000));
    expect(actionStart(1050)).toBe(1000);
  });

  it("claims the input: the next action counts from its own start", () => {
    noteInput(input(1000));
    actionStart(1050);
    expect(actionStart(1200)).toBe(1200);
  });

  it("ignores an input too old, or from a later clock, to have started it", () => {
    noteInput(input(1000));
    expect(actionStart(5000)).toBe(5000);
    noteInput(input(6000));
    expect(actionStart(5500)).toBe(5500);
  });
});
