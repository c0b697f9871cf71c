import { beforeEach, describe, expect, it } from "vitest";
import { setLang } from "../src/i18n";
import { statusView } from "../src/status";
import { statusBar } from "./fixtures";

describe("status bar", () => {
  beforeEach(() => setLang("en"));

  it("says standalone when no back office is configured", () => {
    const v = statusView(statusBar({ server: null, phase: "offline", waiting: 4 }));
    expect(v.tone).toBe("standalone");
    expect(v.state).toBe("Standalone (no back office)");
    expect(v.waiting).toBe("4 changes kept on this device");
    expect(v.lastSync).toBe("");
  });

  it("counts changes waiting and says when all are sent", () => {
    expect(statusView(statusBar({ waiting: 12 })).waiting).toBe("12 changes waiting");
    expect(statusView(statusBar()).waiting).toBe("All changes sent");
    expect(statusView(statusBar()).lastSync).toBe("Never synced");
  });

  it("says the counts are not known before a clerk opens the database", () => {
    for (const server of ["https://backoffice.example", null]) {
      const v = statusView(statusBar({ server, counted: false }));
      expect(v.waiting).toBe("Changes waiting: counted once a clerk logs in");
    }
    setLang("fr");
    expect(statusView(statusBar({ counted: false })).waiting).toBe("Modifications en attente : comptées après la connexion d'un agent");
  });

  it("shows progress only while syncing", () => {
    expect(statusView(statusBar({ phase: "syncing", progress: { pushed: 250, to_push: 1000, pages: 0 } })).progress).toBe(0.25);
    expect(statusView(statusBar({ phase: "syncing" })).progress).toBe(0);
    expect(statusView(statusBar({ phase: "online", progress: { pushed: 5, to_push: 5, pages: 1 } })).progress).toBeNull();
  });

  it("puts refusals, conflicts and the error in words", () => {
    const v = statusView(
      statusBar({ phase: "offline", refused: 2, conflicts: 1, message: "the back office cannot be reached" }),
    );
    expect(v.tone).toBe("offline");
    expect(v.state).toBe("Offline");
    expect(v.detail).toBe("2 refused · 1 in conflict · the back office cannot be reached");
    expect(statusView(statusBar()).detail).toBeNull();
  });

  it("warns of a plain HTTP link to another machine, in the clerk's language", () => {
    const insecure = statusBar({ phase: "online", refused: 1, insecure: true });
    expect(statusView(insecure).detail).toBe(
      "Unencrypted link to the back office: what is sent can be read on the way · 1 refused",
    );
    setLang("fr");
    expect(statusView(insecure).detail).toContain("Liaison non chiffrée");
    setLang("en");
    expect(statusView(statusBar({ insecure: false })).detail).toBeNull();
  });

  it("says the sync task's error in the clerk's language", () => {
    const offline = statusBar({
      phase: "offline",
      message: "the back office cannot be reached (timed out); changes stay here",
      translation: { key: "error.sync.offline", args: { detail: ["sync.link.timed_out"] } },
    });
    expect(statusView(offline).detail).toBe(
      "the back office cannot be reached (timed out); changes stay here and go out when the link is back",
    );
    setLang("fr");
    expect(statusView(offline).detail).toBe(
      "le back-office est injoignable (délai dépassé) ; les modifications restent ici et partiront quand la liaison reviendra",
    );
  });

  it("does not repeat the counts in the task's own words once online", () => {
    const v = statusView(statusBar({ refused: 1, message: "1 change refused and 0 in conflict: see the requests concerned" }));
    expect(v.detail).toBe("1 refused");
  });

  it("warns of a nearly full disk, in either language, and not of a roomy one", () => {
    const low = statusBar({ low_disk: 150 * 1024 * 1024 + 10 });
    expect(statusView(low).detail).toBe("Only 150 MB left on this computer's disk: free some space, or work can no longer be saved");
    expect(statusView(statusBar({ low_disk: null })).detail).toBeNull();
    setLang("fr");
    expect(statusView(low).detail).toContain("Plus que 150 Mo libres");
  });

  it("speaks French too", () => {
    setLang("fr");
    const v = statusView(statusBar({ phase: "error", waiting: 2 }));
    expect(v.state).toBe("Erreur de synchronisation");
    expect(v.waiting).toBe("2 modifications en attente");
  });
});
