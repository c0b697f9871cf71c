import { beforeEach, describe, expect, it } from "vitest";
import { setLang } from "../src/i18n";
import { statusView } from "../src/status";
import { offerView, updateOffer } from "../src/update";
import { statusBar } from "./fixtures";

const ready = { state: "ready", version: "0.2.0", notes: "" } as const;

describe("the update the back office offers", () => {
  beforeEach(() => setLang("en"));

  it("is offered only while nobody is at the counter, and installed only while no sync runs", () => {
    expect(offerView(statusBar({ update: null }), false)).toBeNull();
    expect(offerView(statusBar({ update: ready }), true)).toBeNull();
    const quiet = offerView(statusBar({ update: ready }), false);
    expect(quiet?.install).toBe(true);
    expect(quiet?.text).toContain("Guichet 0.2.0 is ready to install");
    expect(offerView(statusBar({ update: ready, phase: "syncing" }), false)?.install).toBe(false);
    // Still downloading, or refused: nothing to install.
    expect(offerView(statusBar({ update: { state: "downloading", version: "0.2.0" } }), false)).toBeNull();
    expect(offerView(statusBar({ update: { state: "refused", version: "0.2.0", reason: "x" } }), false)).toBeNull();
  });

  it("says why an install failed and lets the clerk try again", () => {
    const failed = offerView(statusBar({ update: { state: "failed", version: "0.2.0", reason: "dpkg failed" } }), false);
    expect(failed?.text).toContain("dpkg failed");
    expect(failed?.text).toContain("this version goes on working");
    expect(failed?.install).toBe(true);
  });

  it("puts a refused update in the status bar, in the clerk's language", () => {
    const refused = statusBar({ update: { state: "refused", version: "0.2.0", reason: "key id" } });
    expect(statusView(refused).detail).toContain("Update 0.2.0 refused");
    setLang("fr");
    expect(statusView(refused).detail).toContain("Mise à jour 0.2.0 refusée");
  });

  it("shows its panel only when there is something to offer", () => {
    const panel = updateOffer();
    panel.draw(statusBar(), false);
    expect(panel.el.hidden).toBe(true);
    panel.draw(statusBar({ update: ready }), false);
    expect(panel.el.hidden).toBe(false);
    expect(panel.el.querySelector<HTMLButtonElement>("#update-install")?.disabled).toBe(false);
    panel.draw(statusBar({ update: ready }), true);
    expect(panel.el.hidden).toBe(true);
  });
});
