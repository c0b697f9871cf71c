import { describe, expect, it, vi } from "vitest";
import type { RequestDetail } from "../src/api";
import { request } from "./fixtures";

/** A draft that waits for two documents, `received` of them handed in. */
function draft(received: string[]): RequestDetail {
  return request({
    status: "draft",
    documents: ["birth-cert", "proof-of-address"].map((code) => ({
      code,
      kind: "original",
      name: { en: code, fr: code },
      received: received.includes(code),
    })),
  });
}

const markDocument = vi.fn();
vi.mock("../src/api", () => ({ api: { markDocument } }));
const { documentChecklist } = await import("../src/documents");

describe("the documents' checklist", () => {
  it("keeps the focus on a box ticked from the keyboard once the list is drawn again, as the intake draws it", async () => {
    const place = document.createElement("div");
    document.body.replaceChildren(place, Object.assign(document.createElement("button"), { id: "submit-request" }));
    const draw = (r: RequestDetail): void => {
      place.replaceChildren(documentChecklist("taken-documents", r, async (_label, action) => action(), draw)!);
      // The intake's receipt puts the focus on its next step whenever it draws the request.
      document.getElementById("submit-request")!.focus();
    };
    draw(draft([]));
    const box = document.querySelector<HTMLInputElement>("#taken-documents-birth-cert")!;
    box.focus();
    markDocument.mockResolvedValueOnce(draft(["birth-cert"]));
    box.click();
    await vi.waitFor(() => expect(document.querySelector<HTMLInputElement>("#taken-documents-birth-cert")!.checked).toBe(true));
    expect(document.querySelector("#taken-documents-birth-cert")).not.toBe(box);
    expect(document.activeElement?.id).toBe("taken-documents-birth-cert");
  });
});
