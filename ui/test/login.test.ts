import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { AppState } from "../src/api";
import { emptyVisit, working, type Ctx } from "../src/app";
import { setLang } from "../src/i18n";
import { CoreError } from "../src/messages";
import { appState, statusBar } from "./fixtures";

const { api } = vi.hoisted(() => ({
  api: {
    login: vi.fn(),
    setupStandalone: vi.fn(),
    enroll: vi.fn(),
  },
}));
vi.mock("../src/api", () => ({ api }));

const { loginScreen, typedUsername } = await import("../src/screens/login");
const { firstRun } = await import("../src/screens/firstrun");
const { BUSY_SHOWN_AFTER_MS } = await import("../src/dom");

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A workstation not set up yet, but for `over`. */
function state(over: Partial<AppState> = {}): AppState {
  return appState({
    config: null,
    catalogue_version: null,
    lanes: [],
    counters: [],
    status: statusBar({ server: null, phase: "offline" }),
    ...over,
  });
}

function fakeCtx(): Ctx & { go: ReturnType<typeof vi.fn>; refresh: ReturnType<typeof vi.fn>; showRecoveryKey: ReturnType<typeof vi.fn> } {
  return {
    state: state(),
    counter: "",
    visit: emptyVisit(),
    rated: null,
    go: vi.fn(),
    refresh: vi.fn(async () => undefined),
    announce: vi.fn(),
    showRecoveryKey: vi.fn(),
    async act(_label, action) {
      await action();
    },
  };
}

beforeEach(() => {
  setLang("en");
  vi.resetAllMocks();
});
afterEach(() => document.body.replaceChildren());

describe("login screen", () => {
  it("logs in and goes to the queue", async () => {
    const ctx = fakeCtx();
    const screen = loginScreen(ctx);
    document.body.append(screen.el);
    screen.show();
    const state = appState({ session: { username: "eleni", display_name: "Eleni", role: "clerk", locked: false } });
    api.login.mockResolvedValue(state);
    $<HTMLInputElement>("#login-username").value = "Eleni ";
    $<HTMLInputElement>("#login-password").value = "correct horse battery";
    $<HTMLFormElement>("#login-form").requestSubmit();
    await settle();
    expect(api.login).toHaveBeenCalledWith("eleni", "correct horse battery");
    // The state the login answered with is drawn as it is: no second call to the core.
    expect(ctx.refresh).toHaveBeenCalledWith(state);
    expect(ctx.go).toHaveBeenCalledWith("queue");
    expect($<HTMLInputElement>("#login-password").value).toBe("");
  });

  it("shows the recovery key a first login made, once, before the queue", async () => {
    const ctx = fakeCtx();
    const screen = loginScreen(ctx);
    document.body.replaceChildren(screen.el);
    screen.show();
    const session = { username: "eleni", display_name: "Eleni", role: "administrator" as const, locked: false };
    api.login.mockResolvedValue(appState({ session, recovery_key: "WTWW-FQJ2-2AEY-IBUG" }));
    $<HTMLInputElement>("#login-username").value = "eleni";
    $<HTMLInputElement>("#login-password").value = "correct horse battery";
    $<HTMLFormElement>("#login-form").requestSubmit();
    await settle();
    // The window shows it in place of every screen until it is written down.
    expect(ctx.showRecoveryKey).toHaveBeenCalledWith("WTWW-FQJ2-2AEY-IBUG");
    expect(ctx.go).not.toHaveBeenCalled();
    // The window's state does not keep it.
    expect(ctx.refresh).toHaveBeenCalledWith(expect.objectContaining({ recovery_key: null }));
  });

  it("refuses a second press while the login runs, and shows the button busy only after a pause", async () => {
    vi.useFakeTimers();
    try {
      const ctx = fakeCtx();
      const screen = loginScreen(ctx);
      document.body.append(screen.el);
      screen.show();
      let answer: (s: AppState) => void = () => undefined;
      api.login.mockImplementation(() => new Promise<AppState>((resolve) => (answer = resolve)));
      $<HTMLInputElement>("#login-username").value = "eleni";
      $<HTMLInputElement>("#login-password").value = "correct horse battery";
      const submit = $<HTMLButtonElement>("#login-submit");
      $<HTMLFormElement>("#login-form").requestSubmit();
      $<HTMLFormElement>("#login-form").requestSubmit();
      expect(api.login).toHaveBeenCalledTimes(1);
      // Nothing is drawn while the password is stretched, unless it takes long.
      await vi.advanceTimersByTimeAsync(BUSY_SHOWN_AFTER_MS - 1);
      expect(submit.disabled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(submit.disabled).toBe(true);
      answer(appState({ session: { username: "eleni", display_name: "Eleni", role: "clerk", locked: false } }));
      await vi.advanceTimersByTimeAsync(0);
      expect(submit.disabled).toBe(false);
      expect(ctx.go).toHaveBeenCalledWith("queue");
    } finally {
      vi.useRealTimers();
    }
  });

  it("shows a refusal in the form, empties the password and focuses it", async () => {
    const ctx = fakeCtx();
    const screen = loginScreen(ctx);
    document.body.append(screen.el);
    screen.show();
    await settle(); // the user name takes the focus first
    expect(document.activeElement).toBe($("#login-username"));
    api.login.mockRejectedValue(new CoreError("too many failed attempts", "error.login.wait", { seconds: "30" }));
    $<HTMLInputElement>("#login-username").value = "eleni";
    $<HTMLInputElement>("#login-password").value = "wrong";
    $<HTMLFormElement>("#login-form").requestSubmit();
    await settle();
    expect($("#login-error").getAttribute("role")).toBe("alert");
    expect($("#login-error").textContent).toBe("too many failed attempts: wait 30 s before trying again");
    expect($<HTMLInputElement>("#login-password").value).toBe("");
    expect($<HTMLInputElement>("#login-username").value).toBe("eleni");
    expect(document.activeElement).toBe($("#login-password"));
    expect(ctx.go).not.toHaveBeenCalled();
  });

  it("reads user names as the core keeps them", () => {
    expect(typedUsername("  Eleni.P ")).toBe("eleni.p");
  });
});

describe("first run", () => {
  function fill(values: Record<string, string>): void {
    for (const [id, value] of Object.entries(values)) $<HTMLInputElement>(`#${id}`).value = value;
  }

  it("creates the first administrator, who is then logged in", async () => {
    const ctx = fakeCtx();
    document.body.append(firstRun(ctx));
    for (const id of ["setup-admin-username", "setup-admin-name", "setup-admin-password", "setup-admin-password2"]) {
      expect(document.querySelector(`label[for="${id}"]`), id).not.toBeNull();
    }
    expect($("#setup-admin-password").getAttribute("type")).toBe("password");
    expect($("#setup-admin-password2").getAttribute("autocomplete")).toBe("new-password");
    fill({
      "setup-admin-username": "admin",
      "setup-admin-name": "Eleni Papadopoulou",
      "setup-admin-password": "correct horse battery",
      "setup-admin-password2": "correct horse battery",
      // The centre's rules, as a centre in Kenya would set them.
      "setup-id-scheme": "plain",
      "setup-currency": " kes ",
      "setup-waiting-target": "20",
      "setup-time-zone": " Africa/Nairobi ",
    });
    for (const id of ["setup-id-scheme", "setup-currency", "setup-waiting-target", "setup-time-zone"]) {
      expect(document.querySelector(`label[for="${id}"]`), id).not.toBeNull();
    }
    api.setupStandalone.mockResolvedValue({ config: {}, recovery_key: "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567" });
    $<HTMLFormElement>("#setup-standalone").requestSubmit();
    await settle();
    // The administrator is logged in: the window's state is read again (the idle lock counts
    // from there), and the recovery key is shown once, before the queue (main-firstrun.test.ts).
    expect(ctx.refresh).toHaveBeenCalled();
    expect(ctx.showRecoveryKey).toHaveBeenCalledWith("ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567");
    expect(ctx.go).not.toHaveBeenCalled();
    expect(api.setupStandalone).toHaveBeenCalledWith({
      center_code: "ATH-01",
      center_name: "Athens Central",
      center_kind: "stationary",
      device_code: "D1",
      admin_username: "admin",
      admin_name: "Eleni Papadopoulou",
      admin_password: "correct horse battery",
      national_id_scheme: "plain",
      currency: "KES",
      waiting_target_min: 20,
      time_zone: "Africa/Nairobi",
    });
  });

  it("refuses two different passwords before asking the core", async () => {
    const ctx = fakeCtx();
    document.body.append(firstRun(ctx));
    await settle(); // the administrator's user name takes the focus first
    expect(document.activeElement).toBe($("#setup-admin-username"));
    fill({
      "setup-admin-username": "admin",
      "setup-admin-name": "Eleni Papadopoulou",
      "setup-admin-password": "correct horse battery",
      "setup-admin-password2": "correct horse batery",
    });
    $<HTMLFormElement>("#setup-standalone").requestSubmit();
    await settle();
    expect(api.setupStandalone).not.toHaveBeenCalled();
    const error = $("#setup-standalone [role=alert]");
    expect(error.textContent).toBe("The two passwords differ: type the same password in both fields.");
    expect($("#setup-admin-password2").getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe($("#setup-admin-password2"));
  });

  it("says beside the code that the back office does not take it", async () => {
    const ctx = fakeCtx();
    document.body.append(firstRun(ctx));
    await settle(); // the administrator's user name takes the focus first
    $<HTMLInputElement>("#setup-enroll [name=server]").value = "https://backoffice.example";
    $<HTMLInputElement>("#setup-enroll [name=code]").value = "ABCD-1234";
    const said = "the back office does not take this enrolment code (unknown enrolment code): it may be mistyped, used already or expired; ask an administrator for a new one. Nothing was changed";
    api.enroll.mockRejectedValueOnce(new CoreError(said, "error.sync.enrolment_code", { detail: "unknown enrolment code" }));
    $<HTMLFormElement>("#setup-enroll").requestSubmit();
    await settle();
    const code = $<HTMLInputElement>("#setup-enroll [name=code]");
    expect(code.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById(code.getAttribute("aria-describedby") ?? "")?.textContent).toContain("ask an administrator for a new one");
    expect(document.activeElement).toBe(code);
    expect(ctx.go).not.toHaveBeenCalled();
  });

  it("sends the code once however often Enrol is pressed while the back office answers", async () => {
    const ctx = fakeCtx();
    document.body.replaceChildren(firstRun(ctx));
    await settle();
    $<HTMLInputElement>("#setup-enroll [name=server]").value = "https://backoffice.example";
    $<HTMLInputElement>("#setup-enroll [name=code]").value = "ABCD-1234";
    let answer: () => void = () => undefined;
    api.enroll.mockReset();
    api.enroll.mockImplementationOnce(() => new Promise((done) => (answer = () => done(null))));
    $<HTMLFormElement>("#setup-enroll").requestSubmit();
    $<HTMLFormElement>("#setup-enroll").requestSubmit();
    answer();
    await settle();
    await settle();
    expect(api.enroll).toHaveBeenCalledTimes(1);
  });

  it("opens the network options at the control a TLS or plain-http refusal needs", async () => {
    const ctx = fakeCtx();
    document.body.replaceChildren(firstRun(ctx));
    await settle();
    $<HTMLInputElement>("#setup-enroll [name=server]").value = "https://backoffice.example";
    $<HTMLInputElement>("#setup-enroll [name=code]").value = "ABCD-1234";
    api.enroll.mockReset();
    api.enroll.mockRejectedValueOnce(new CoreError("... enrol with --ca-cert FILE ...", "error.sync.tls", { detail: "invalid peer certificate: UnknownIssuer" }));
    $<HTMLFormElement>("#setup-enroll").requestSubmit();
    await settle();
    expect($<HTMLDetailsElement>("#enroll-link").open).toBe(true);
    expect(document.activeElement).toBe($("#enroll-ca-cert"));
    const said = $("#setup-enroll [role=alert]").textContent ?? "";
    expect(said).toContain("under Network options");
    expect(said).toContain("UnknownIssuer");
    expect(said).not.toContain("--ca-cert");
  });

  it("says a set-up made meanwhile by the command line, and leads to its login", async () => {
    const ctx = fakeCtx();
    document.body.append(firstRun(ctx));
    await settle();
    $<HTMLInputElement>("#setup-standalone [name=admin_username]").value = "kostas";
    $<HTMLInputElement>("#setup-standalone [name=admin_name]").value = "Kostas";
    $<HTMLInputElement>("#setup-standalone [name=admin_password]").value = "a long passphrase";
    $<HTMLInputElement>("#setup-standalone [name=admin_password2]").value = "a long passphrase";
    const said = "this workstation is already set up for centre ATH-01, device W1; use a new data directory for another device";
    api.setupStandalone.mockRejectedValueOnce(new CoreError(said, "error.already_set_up", { center: "ATH-01", device: "W1" }));
    $<HTMLFormElement>("#setup-standalone").requestSubmit();
    await settle();
    const onward = $<HTMLButtonElement>("#to-login");
    expect(onward.parentElement?.textContent).toContain("already set up for centre ATH-01");
    expect(document.activeElement).toBe(onward);
    expect(ctx.go).not.toHaveBeenCalled();
    onward.click();
    await settle();
    expect(ctx.refresh).toHaveBeenCalled();
    expect(ctx.go).toHaveBeenCalledWith("login");
  });

  it("enrolls without a clerk, then asks for a login", async () => {
    const ctx = fakeCtx();
    document.body.append(firstRun(ctx));
    expect(document.querySelector("#setup-enroll [name=clerk]")).toBeNull();
    $<HTMLInputElement>("#setup-enroll [name=server]").value = "https://backoffice.example";
    $<HTMLInputElement>("#setup-enroll [name=code]").value = "ABCD-1234";
    api.enroll.mockResolvedValue({});
    $<HTMLFormElement>("#setup-enroll").requestSubmit();
    await settle();
    expect(api.enroll).toHaveBeenCalledWith("https://backoffice.example", "ABCD-1234", { allow_insecure_http: false, ca_cert: null });
    expect(ctx.go).toHaveBeenCalledWith("login");
  });
});

describe("working", () => {
  it("needs a set-up, a clerk and an unlocked screen", () => {
    const config = {} as NonNullable<AppState["config"]>;
    const session = { username: "eleni", display_name: "Eleni", role: "clerk" as const, locked: false };
    expect(working(state())).toBe(false);
    expect(working(state({ config }))).toBe(false);
    expect(working(state({ config, session }))).toBe(true);
    expect(working(state({ config, session: { ...session, locked: true } }))).toBe(false);
  });
});
