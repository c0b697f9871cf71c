import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { approvalBox } from "../src/approval";
import { setLang } from "../src/i18n";

const input = (selector: string) => document.querySelector<HTMLInputElement>(selector)!;

describe("the supervisor's approval box", () => {
  beforeEach(() => setLang("fr"));
  afterEach(() => document.body.replaceChildren());

  it("is labelled in the clerk's language, the password hidden", () => {
    document.body.append(approvalBox("waive-approval").el);
    expect(document.querySelector("#waive-approval legend")!.textContent).toBe("Un superviseur approuve (quatre yeux)");
    expect(document.querySelector("label[for=waive-approval-approver]")!.textContent).toBe("Identifiant du superviseur");
    expect(input("#waive-approval-approver-password").type).toBe("password");
  });

  it("hands over what was typed once, then forgets the password", () => {
    const box = approvalBox("refund-approval");
    document.body.append(box.el);
    input("#refund-approval-approver").value = "  kostas ";
    input("#refund-approval-approver-password").value = "counter demo passphrase";
    expect(box.take()).toEqual({ username: "kostas", password: "counter demo passphrase" });
    expect(input("#refund-approval-approver-password").value).toBe("");
    expect(input("#refund-approval-approver").value).toBe("  kostas ");
  });

  it("gives nothing when no name was typed, so the core says a supervisor must approve", () => {
    const box = approvalBox("action-approval");
    document.body.append(box.el);
    input("#action-approval-approver-password").value = "typed without a name";
    expect(box.take()).toBeNull();
    expect(input("#action-approval-approver-password").value).toBe("");
  });
});
