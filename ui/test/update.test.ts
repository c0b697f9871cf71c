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
    const failed = offerView(
      statusBar({ update: { state: "failed", version: "0.2.0", reason: "dpkg failed", again: true } }),
      false,
    );
    expect(failed?.text).toContain("dpkg failed");
    expect(failed?.text).toContain("this version goes on working");
    expect(failed?.install).toBe(true);
  });

  it("offers no install when the failed install lost the package, and says it comes again", () => {
    const lost = offerView(
      statusBar({ update: { state: "failed", version: "0.2.0", reason: "the install stopped", again: false } }),
      false,
    );
    expect(lost?.install).toBe(false);
    expect(lost?.text).toContain("downloaded again at the next sync");
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

  it("never leaves the install button in reach while a citizen is at the counter", async () => {
    const panel = updateOffer();
    panel.draw(statusBar({ update: ready }), false);
    const install = panel.el.querySelector<HTMLButtonElement>("#update-install")!;
    // The install is refused (a sync began): the refusal stays in sight.
    const { api } = await import("../src/api");
    const refused = new Error("a sync is under way");
    const original = api.installUpdate;
    api.installUpdate = () => Promise.reject(refused);
    install.click();
    await new Promise((r) => setTimeout(r, 0));
    api.installUpdate = original;
    expect(panel.el.querySelector("#update-error")?.textContent).not.toBe("");
    panel.draw(statusBar({ update: ready }), true);
    expect(panel.el.hidden).toBe(false);
    expect(install.hidden).toBe(true);
    panel.draw(statusBar({ update: ready }), false);
    expect(install.hidden).toBe(false);
  });
});
