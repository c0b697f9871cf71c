import { describe, expect, it, vi } from "vitest";
import type { StartProblem } from "../src/api";
import { setLang } from "../src/i18n";

const { api } = vi.hoisted(() => ({ api: { retryStart: vi.fn(), keepAside: vi.fn(), quit: vi.fn() } }));
vi.mock("../src/api", () => ({ api }));
const { troubleScreen, troubleWords } = await import("../src/screens/trouble");

const problem = (over: Partial<StartProblem>): StartProblem => ({
  kind: "data_dir",
  data_dir: "/home/clerk/.local/share/guichet",
  detail: "Permission denied (os error 13)",
  owner: { center_code: null, device_code: null, server: null },
  ...over,
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the trouble screen", () => {
  it("says what is wrong and what to do, for each kind of problem", () => {
    setLang("en");
    const dir = troubleWords(problem({}));
    expect(dir.what).toBe("Guichet cannot keep its data in the folder /home/clerk/.local/share/guichet.");
    expect(dir.todo).toContain("write to this folder");
    expect(troubleWords(problem({ data_dir: null })).todo).toContain("GUICHET_DATA_DIR");
    const enrolled = troubleWords(
      problem({ kind: "damaged", owner: { center_code: "ATH-01", device_code: "D7", server: "https://bo.example" } }),
    );
    expect(enrolled.title).toBe("The local database is damaged");
    expect(enrolled.todo).toContain("new code from the back office (https://bo.example)");
    expect(enrolled.todo).toContain("revoke device D7");
    expect(troubleWords(problem({ kind: "damaged" })).todo).toContain("set this computer up again");
    expect(troubleWords(problem({ kind: "newer" })).what).toContain("newer version");
    setLang("fr");
    expect(troubleWords(problem({})).title).toBe("Guichet ne peut pas démarrer");
    setLang("en");
  });

  it("offers to try again, and says when it is still not possible", async () => {
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    troubleScreen(root, problem({}));
    expect(root.querySelector("#start-problem")!.getAttribute("data-kind")).toBe("data_dir");
    expect(root.querySelector("#trouble-keep-aside")).toBeNull();
    expect(document.activeElement).toBe(root.querySelector("#trouble-retry"));
    api.retryStart.mockResolvedValueOnce(problem({ detail: "No space left on device (os error 28)" }));
    root.querySelector<HTMLButtonElement>("#trouble-retry")!.click();
    await settle();
    expect(api.retryStart).toHaveBeenCalledTimes(1);
    expect(root.querySelector("#trouble-error")!.textContent).toBe("Still not possible: the reason is below.");
    expect(root.querySelector("#trouble-detail")!.textContent).toContain("No space left on device");
  });

  it("offers to keep a damaged database aside, not to try again", async () => {
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    troubleScreen(root, problem({ kind: "damaged", detail: "file is not a database" }));
    expect(root.querySelector("#trouble-retry")).toBeNull();
    expect(document.activeElement).toBe(root.querySelector("#trouble-keep-aside"));
    api.quit.mockResolvedValueOnce(undefined);
    root.querySelector<HTMLButtonElement>("#trouble-quit")!.click();
    expect(api.quit).toHaveBeenCalled();
  });

  it("offers only to quit where trying again cannot help: a newer release's data, no home folder", () => {
    for (const kind of [problem({ kind: "newer" }), problem({ data_dir: null })]) {
      const root = document.createElement("div");
      document.body.replaceChildren(root);
      troubleScreen(root, kind);
      expect(root.querySelector("#trouble-retry")).toBeNull();
      expect(root.querySelector("#trouble-quit")!.classList.contains("primary")).toBe(true);
    }
  });

  it("says why when the window cannot close", async () => {
    const root = document.createElement("div");
    document.body.replaceChildren(root);
    troubleScreen(root, problem({}));
    api.quit.mockRejectedValueOnce(new Error("the window could not be closed"));
    root.querySelector<HTMLButtonElement>("#trouble-quit")!.click();
    await settle();
    expect(root.querySelector("#trouble-error")!.textContent).toContain("the window could not be closed");
  });
});
