// The idle lock: after a set time with no key, mouse, pointer or wheel activity in the window,
// the screen locks itself. The core is pure (a clock and a timer are given to it), so it is
// tested without a window; `watchActivity` ties it to the window's events.

/** What the idle lock needs of time: a clock that never goes back, and a one-shot timer. */
export interface Clock {
  /** Milliseconds since some fixed moment; never decreases. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; the function returned cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

/** A clock for idle time: it moves on by the larger of what the monotonic clock and the wall
 * clock moved since the last reading. The monotonic clock alone stops while the machine
 * sleeps, and the wall clock alone can be set back; idle time should count both a night's
 * sleep and a clock set back, and locking early is the safe mistake. */
export function idleClock(
  monotonic: () => number = () => performance.now(),
  wall: () => number = () => Date.now(),
): () => number {
  let lastMonotonic = monotonic();
  let lastWall = wall();
  let value = 0;
  return () => {
    const m = monotonic();
    const w = wall();
    value += Math.max(0, m - lastMonotonic, w - lastWall);
    lastMonotonic = m;
    lastWall = w;
    return value;
  };
}

export function browserClock(): Clock {
  return {
    now: idleClock(),
    schedule(fn, ms) {
      const handle = window.setTimeout(fn, ms);
      return () => window.clearTimeout(handle);
    },
  };
}

/** Calls `onIdle` once when nothing happened for the set number of minutes while it runs.
 *
 * Activity only notes the time (a mouse move costs one clock reading); a single timer is set
 * for when the time would be up, and when it fires it checks and, if there was activity in
 * between, sets itself again for the rest. */
export class IdleLock {
  private limitMs = 0;
  private last: number;
  private on = false;
  private cancel: (() => void) | null = null;

  constructor(
    private readonly onIdle: () => void,
    private readonly clock: Clock,
  ) {
    this.last = clock.now();
  }

  /** Minutes without activity before `onIdle`; 0 (or less, or not a number) never. */
  setMinutes(minutes: number): void {
    this.limitMs = Number.isFinite(minutes) && minutes > 0 ? minutes * 60_000 : 0;
    if (this.on) this.start();
  }

  /** Starts counting from now: after a login or an unlock. */
  start(): void {
    this.on = true;
    this.last = this.clock.now();
    this.arm(this.limitMs);
  }

  /** Stops counting: while locked, or with nobody logged in. */
  stop(): void {
    this.on = false;
    this.disarm();
  }

  /** A key, a click, a move of the mouse or the wheel: counting starts again. */
  activity(): void {
    if (this.on) this.last = this.clock.now();
  }

  /** Whether it was started and not stopped since (nor fired). */
  get running(): boolean {
    return this.on;
  }

  /** Whether it counts, and would lock at the end of the set time. */
  get armed(): boolean {
    return this.on && this.limitMs > 0;
  }

  private arm(ms: number): void {
    this.disarm();
    if (this.limitMs > 0) this.cancel = this.clock.schedule(() => this.check(), ms);
  }

  private disarm(): void {
    this.cancel?.();
    this.cancel = null;
  }

  private check(): void {
    this.cancel = null;
    if (!this.on || this.limitMs <= 0) return;
    const idle = this.clock.now() - this.last;
    if (idle >= this.limitMs) {
      this.stop();
      this.onIdle();
    } else {
      this.arm(this.limitMs - idle);
    }
  }
}

/** The events that count as the clerk's activity in the window. */
export const ACTIVITY_EVENTS = ["keydown", "mousedown", "mousemove", "pointerdown", "pointermove", "wheel", "touchstart"] as const;

/** Tells `idle` about every activity in `target`; the function returned stops listening. */
export function watchActivity(idle: IdleLock, target: EventTarget = document): () => void {
  const note = (): void => idle.activity();
  const options: AddEventListenerOptions = { capture: true, passive: true };
  for (const name of ACTIVITY_EVENTS) target.addEventListener(name, note, options);
  return () => {
    for (const name of ACTIVITY_EVENTS) target.removeEventListener(name, note, options);
  };
}
