import { describe, expect, it } from "vitest";
import { IdleLock, idleClock, watchActivity, type Clock } from "../src/idle";

/** A clock the test moves by hand, with its pending timers. */
class FakeClock implements Clock {
  t = 0;
  timers: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }

  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  /** Moves time on by `ms`, firing each timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      due.live = false;
      due.fn();
    }
    this.t = end;
  }

  get pending(): number {
    return this.timers.filter((x) => x.live).length;
  }
}

const MIN = 60_000;

function setup(minutes: number) {
  const clock = new FakeClock();
  let fired = 0;
  const idle = new IdleLock(() => (fired += 1), clock);
  idle.setMinutes(minutes);
  return { clock, idle, fired: () => fired };
}

describe("idle lock", () => {
  it("fires once after the set minutes without activity", () => {
    const { clock, idle, fired } = setup(5);
    idle.start();
    clock.advance(5 * MIN - 1);
    expect(fired()).toBe(0);
    clock.advance(1);
    expect(fired()).toBe(1);
    // Once fired it stops: no second lock while the screen is locked.
    clock.advance(60 * MIN);
    expect(fired()).toBe(1);
    expect(idle.armed).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it("counts again from each activity", () => {
    const { clock, idle, fired } = setup(5);
    idle.start();
    clock.advance(4 * MIN);
    idle.activity();
    clock.advance(4 * MIN);
    expect(fired()).toBe(0);
    idle.activity();
    clock.advance(4 * MIN + 59_999);
    expect(fired()).toBe(0);
    clock.advance(1);
    expect(fired()).toBe(1);
  });

  it("keeps one timer however much activity there is", () => {
    const { clock, idle } = setup(5);
    idle.start();
    for (let i = 0; i < 1000; i++) {
      clock.advance(100);
      idle.activity();
    }
    expect(clock.pending).toBe(1);
  });

  it("never fires at 0 minutes", () => {
    const { clock, idle, fired } = setup(0);
    idle.start();
    clock.advance(24 * 60 * MIN);
    expect(fired()).toBe(0);
    expect(idle.armed).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it("takes a new setting while running, and 0 turns it off", () => {
    const { clock, idle, fired } = setup(5);
    idle.start();
    clock.advance(2 * MIN);
    idle.setMinutes(1);
    clock.advance(MIN);
    expect(fired()).toBe(1);
    idle.start();
    idle.setMinutes(0);
    clock.advance(60 * MIN);
    expect(fired()).toBe(1);
    idle.setMinutes(Number.NaN);
    expect(idle.armed).toBe(false);
  });

  it("stops while locked and counts from the unlock", () => {
    const { clock, idle, fired } = setup(5);
    idle.start();
    clock.advance(3 * MIN);
    idle.stop();
    clock.advance(60 * MIN);
    idle.activity();
    expect(fired()).toBe(0);
    idle.start();
    clock.advance(5 * MIN - 1);
    expect(fired()).toBe(0);
    clock.advance(1);
    expect(fired()).toBe(1);
  });

  it("does not count before it is started", () => {
    const { clock, fired } = setup(5);
    clock.advance(60 * MIN);
    expect(fired()).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it("hears the window's keys, mouse, pointer and wheel", () => {
    const { clock, idle, fired } = setup(1);
    const target = new EventTarget();
    const unwatch = watchActivity(idle, target);
    idle.start();
    for (const name of ["keydown", "mousemove", "pointerdown", "wheel"]) {
      clock.advance(50_000);
      target.dispatchEvent(new Event(name));
    }
    expect(fired()).toBe(0);
    unwatch();
    clock.advance(50_000);
    target.dispatchEvent(new Event("keydown"));
    clock.advance(10_000);
    expect(fired()).toBe(1);
  });
});

describe("idle clock", () => {
  it("moves by the larger step of the monotonic and the wall clock, never back", () => {
    let m = 1000;
    let w = 1_700_000_000_000;
    const now = idleClock(
      () => m,
      () => w,
    );
    expect(now()).toBe(0);
    m += 10;
    w += 10;
    expect(now()).toBe(10);
    // The machine slept an hour: the monotonic clock stood still, the wall clock did not.
    w += 3_600_000;
    expect(now()).toBe(3_600_010);
    // The wall clock was set back a day: idle time still moves on with the monotonic clock.
    m += 500;
    w -= 86_400_000;
    expect(now()).toBe(3_600_510);
    m += 5;
    w += 5;
    expect(now()).toBe(3_600_515);
  });
});
