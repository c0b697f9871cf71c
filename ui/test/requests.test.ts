import { describe, expect, it, vi } from "vitest";
import type { RequestDetail, RequestSummary } from "../src/api";
import { SYNCED } from "../src/app";
import { setLang, t } from "../src/i18n";
import { request, screenCtx } from "./fixtures";

/** A request paid 6.00 by card, none of it given back yet, but for `over`. */
function paid(over: Partial<RequestDetail> = {}): RequestDetail {
  return request({
    fee: { minor: 600, currency: "EUR" },
    paid_minor: 600,
    payments: [
      {
        receipt: "K7XA-0002",
        request_receipt: "K7XA-0001",
        amount: { minor: 600, currency: "EUR" },
        at: "2026-03-01T09:00:00Z",
        clerk: "eleni",
        method: "card",
        outstanding_minor: 0,
        refunded_minor: 0,
      },
    ],
    ...over,
  });
}

const refund = vi.fn();
const detail = vi.fn(async () => paid());
const markDocument = vi.fn();
const listRequests = vi.fn(async (): Promise<RequestSummary[]> => []);
const pay = vi.fn(async () => ({ receipt: "K7XA-0003", amount: { minor: 4500, currency: "EUR" } }));
vi.mock("../src/api", () => ({
  api: {
    listRequests,
    pay,
    browse: async () => ({ target_groups: [{ code: "older-people", name: { en: "Older people", fr: "Personnes âgées" }, services: 1 }] }),
    request: detail,
    refund,
    markDocument,
    advance: vi.fn(async () => {
      throw new Error("request K7XA-0000-042E: submit waits for these documents to be marked received: Birth certificate");
    }),
  },
}));
const { requestsScreen } = await import("../src/screens/requests");

/** A draft paid 6.00 that waits for a birth certificate: it can be submitted once the
 * certificate is ticked, and the payment given back. */
function waiting(received: boolean): RequestDetail {
  return paid({
    status: "draft",
    next_actions: received ? ["submit", "cancel"] : ["cancel"],
    documents: [{ code: "birth-cert", kind: "original", name: { en: "Birth certificate", fr: "Acte de naissance" }, received }],
  });
}

/** Types into the field `id` as the clerk would, the caret after the second character. */
function typeInto(id: string, value: string): HTMLInputElement {
  const input = document.querySelector<HTMLInputElement>(`#${id}`)!;
  input.value = value;
  input.focus();
  input.setSelectionRange(2, 2);
  return input;
}

/** The requests screen with the paid request open. */
let screen: ReturnType<typeof requestsScreen> | null = null;
async function opened(): Promise<void> {
  screen?.stop();
  screen = requestsScreen(screenCtx(), "K7XA-0001");
  document.body.replaceChildren(screen.el);
  await vi.waitFor(() => expect(document.querySelector("#refund-form")).not.toBeNull());
}

function submitRefund(amount: string): void {
  document.querySelector<HTMLInputElement>("#refund-amount")!.value = amount;
  document.querySelector<HTMLInputElement>("#refund-reason")!.value = "one print too many";
  document.querySelector<HTMLButtonElement>("#refund")!.focus();
  document.querySelector<HTMLFormElement>("#refund-form")!.requestSubmit();
}

describe("giving back a payment from the request's detail", () => {
  it("says what is wrong with the amount inside the refund's form, and sends nothing", async () => {
    await opened();
    submitRefund("six");
    const said = document.querySelector("#refund-form #refund-error")!;
    expect(said.textContent).toBe(t("amount.not_a_number", { typed: "six", example: "12.50" }));
    expect(document.activeElement?.id).toBe("refund-amount");
    expect(refund).not.toHaveBeenCalled();
    expect(document.querySelector("#action-error")!.textContent).toBe("");
  });

  it("shows the core's refusal inside the refund's form, where the clerk is", async () => {
    await opened();
    refund.mockRejectedValueOnce(new Error("a supervisor must approve a refund"));
    submitRefund("1");
    const said = document.querySelector("#refund-form #refund-error")!;
    await vi.waitFor(() => expect(said.textContent).toContain("a supervisor must approve a refund"));
    expect(document.querySelector("#action-error")!.textContent).toBe("");
  });

  it("keeps the focus where it was once the refund is done, or on the detail when that is gone", async () => {
    await opened();
    refund.mockResolvedValueOnce(paid({ payments: [{ ...paid().payments[0], refunded_minor: 100 }] }));
    submitRefund("1");
    await vi.waitFor(() => expect(document.querySelector("#payments")!.textContent).toContain("1.00"));
    expect(document.activeElement?.id).toBe("refund");

    refund.mockResolvedValueOnce(paid({ payments: [{ ...paid().payments[0], refunded_minor: 600 }] }));
    submitRefund("5");
    await vi.waitFor(() => expect(document.querySelector("#refund-form")).toBeNull());
    expect(document.activeElement?.id).toBe("detail-heading");
  });
});

describe("drawing the request's detail again while the clerk works in it", () => {
  it("keeps a refund half typed, its refusal and the caret when a sync brings news", async () => {
    await opened();
    submitRefund("six");
    typeInto("refund-reason", "one print too many");
    typeInto("refund-amount", "2.50");

    detail.mockResolvedValueOnce(paid({ status: "ready" }));
    window.dispatchEvent(new Event(SYNCED));
    await vi.waitFor(() => expect(document.querySelector("#detail-status")!.textContent).toBe(t("request.status.ready")));

    const amount = document.querySelector<HTMLInputElement>("#refund-amount")!;
    expect(amount.value).toBe("2.50");
    expect(document.querySelector<HTMLInputElement>("#refund-reason")!.value).toBe("one print too many");
    expect(document.querySelector("#refund-error")!.textContent).toBe(t("amount.not_a_number", { typed: "six", example: "12.50" }));
    expect(document.activeElement).toBe(amount);
    expect([amount.selectionStart, amount.selectionEnd]).toEqual([2, 2]);
  });

  it("keeps an open cancellation and its reason when a sync brings news", async () => {
    detail.mockResolvedValueOnce(paid({ next_actions: ["cancel"] }));
    await opened();
    document.querySelector<HTMLButtonElement>("#do-cancel")!.click();
    typeInto("cancel-reason", "the citizen moved away");

    detail.mockResolvedValueOnce(paid({ next_actions: ["cancel"], status: "in_processing" }));
    window.dispatchEvent(new Event(SYNCED));
    await vi.waitFor(() => expect(document.querySelector("#detail-status")!.textContent).toBe(t("request.status.in_processing")));

    expect(document.querySelector<HTMLFormElement>("#cancel-form")!.hidden).toBe(false);
    expect(document.querySelector("#do-cancel")!.getAttribute("aria-expanded")).toBe("true");
    expect(document.querySelector<HTMLInputElement>("#cancel-reason")!.value).toBe("the citizen moved away");
    expect(document.activeElement?.id).toBe("cancel-reason");
  });

  it("keeps the focus on a document's box once it is ticked, and the refund typed beside it", async () => {
    detail.mockResolvedValueOnce(waiting(false));
    await opened();
    document.querySelector<HTMLButtonElement>("#do-cancel")!.click();
    typeInto("refund-amount", "1");
    const box = document.querySelector<HTMLInputElement>("#request-documents-birth-cert")!;
    box.focus();
    markDocument.mockResolvedValueOnce(waiting(true));
    box.click();
    await vi.waitFor(() => expect(document.querySelector("#do-submit")).not.toBeNull());

    expect(document.activeElement?.id).toBe("request-documents-birth-cert");
    expect(document.querySelector<HTMLInputElement>("#request-documents-birth-cert")!.checked).toBe(true);
    expect(document.querySelector<HTMLInputElement>("#refund-amount")!.value).toBe("1");
    expect(document.querySelector<HTMLFormElement>("#cancel-form")!.hidden).toBe(false);
  });

  it("says a step's refusal no more once a tick has drawn the detail again", async () => {
    detail.mockResolvedValueOnce(paid({ ...waiting(false), next_actions: ["submit"] }));
    await opened();
    document.querySelector<HTMLButtonElement>("#do-submit")!.click();
    await vi.waitFor(() => expect(document.querySelector("#action-error")!.textContent).toContain("Birth certificate"));
    markDocument.mockResolvedValueOnce(waiting(true));
    document.querySelector<HTMLInputElement>("#request-documents-birth-cert")!.click();
    await vi.waitFor(() => expect(document.querySelector<HTMLInputElement>("#request-documents-birth-cert")!.checked).toBe(true));
    expect(document.querySelector("#action-error")!.textContent).toBe("");
  });

  it("does not draw a sync's news of a request over the one the clerk opened since", async () => {
    const other = paid({ receipt: "K7XA-0000-043C", status: "ready" });
    listRequests.mockResolvedValue([other]);
    await opened();
    await vi.waitFor(() => expect(document.querySelector(`[data-receipt="${other.receipt}"]`)).not.toBeNull());
    let answer: (r: RequestDetail) => void = () => undefined;
    detail.mockClear();
    detail.mockImplementationOnce(() => new Promise((resolve) => (answer = resolve)));
    window.dispatchEvent(new Event(SYNCED));
    await vi.waitFor(() => expect(detail).toHaveBeenCalledOnce());

    detail.mockResolvedValueOnce(other);
    document.querySelector<HTMLButtonElement>(`[data-receipt="${other.receipt}"]`)!.click();
    await vi.waitFor(() => expect(document.querySelector("#detail-receipt")!.textContent).toBe(other.receipt));
    answer(paid({ status: "rejected" }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(document.querySelector("#detail-receipt")!.textContent).toBe(other.receipt);
    expect(document.querySelector("#detail-status")!.textContent).toBe(t("request.status.ready"));
    listRequests.mockResolvedValue([]);
  });

  it("draws the list of the latest filter when an earlier list answers after it", async () => {
    const late = paid({ receipt: "K7XA-0000-050A", status: "ready" });
    const overdueOne = paid({ receipt: "K7XA-0000-051B", status: "submitted" });
    await opened();
    let answerFirst: (list: RequestSummary[]) => void = () => undefined;
    listRequests.mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)));
    listRequests.mockResolvedValueOnce([overdueOne]);
    const overdue = document.querySelector<HTMLInputElement>("#filter-overdue")!;
    overdue.checked = false;
    overdue.dispatchEvent(new Event("change", { bubbles: true }));
    overdue.checked = true;
    overdue.dispatchEvent(new Event("change", { bubbles: true }));
    await vi.waitFor(() => expect(document.querySelector(`[data-receipt="${overdueOne.receipt}"]`)).not.toBeNull());
    answerFirst([late]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(document.querySelector(`[data-receipt="${late.receipt}"]`)).toBeNull();
    expect(document.querySelector(`[data-receipt="${overdueOne.receipt}"]`)).not.toBeNull();
    listRequests.mockResolvedValue([]);
  });

  it("says when a sync moved the request on, and nothing when it did not", async () => {
    screen?.stop();
    const ctx = screenCtx();
    detail.mockResolvedValue(paid());
    screen = requestsScreen(ctx, "K7XA-0001");
    document.body.replaceChildren(screen.el);
    await vi.waitFor(() => expect(document.querySelector("#detail-status")).not.toBeNull());
    expect(document.activeElement?.id).toBe("detail-heading");
    window.dispatchEvent(new Event(SYNCED));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(ctx.announce).not.toHaveBeenCalled();
    detail.mockResolvedValue(paid({ status: "dispatched" }));
    window.dispatchEvent(new Event(SYNCED));
    await vi.waitFor(() => expect(ctx.announce).toHaveBeenCalledWith(t("requests.now", { receipt: "K7XA-0000-042E", status: t("request.status.dispatched") })));
    detail.mockResolvedValue(paid());
  });

  it("reads nothing more at a sync once the clerk has left the screen", async () => {
    await opened();
    screen!.stop();
    detail.mockClear();
    listRequests.mockClear();
    window.dispatchEvent(new Event(SYNCED));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(detail).not.toHaveBeenCalled();
    expect(listRequests).not.toHaveBeenCalled();
  });
});

describe("money still owed once the visit is over", () => {
  const owed = request({ status: "submitted", paid_minor: 0, next_actions: ["dispatch", "cancel"], fee_exemptions: ["older-people"] });

  it("is taken on the request's detail, and dispatching waits for it", async () => {
    detail.mockResolvedValue(owed);
    const screen = requestsScreen(screenCtx(), owed.receipt);
    document.body.replaceChildren(screen.el);
    await vi.waitFor(() => expect(document.querySelector("#pay-form")).not.toBeNull());
    expect(document.querySelector("#do-dispatch")).toBeNull();
    expect(document.querySelector("#fee-due")!.textContent).toBe(t("intake.due_now", { amount: "€45.00" }));
    // Its receipt can be printed again for the citizen who came back.
    expect(document.querySelector("#print-receipt")).not.toBeNull();

    detail.mockResolvedValue({ ...owed, paid_minor: 4500 });
    document.querySelector<HTMLFormElement>("#pay-form")!.requestSubmit();
    await vi.waitFor(() => expect(document.querySelector("#do-dispatch")).not.toBeNull());
    expect(pay).toHaveBeenCalledWith(owed.receipt, "45.00", "cash");
    expect(document.querySelector("#pay-form")).toBeNull();
    screen.stop();
  });

  it("names the group a fee was waived for, as intake does", async () => {
    detail.mockResolvedValue({ ...owed, waiver_ground: "older-people" });
    const screen = requestsScreen(screenCtx(), owed.receipt);
    document.body.replaceChildren(screen.el);
    await vi.waitFor(() => expect(document.body.textContent).toContain(t("intake.waived", { ground: "Older people" })));
    expect(document.querySelector("#pay-form")).toBeNull();
    screen.stop();
  });
});

describe("the back office's refusals and conflicts", () => {
  it("are said in the clerk's language, a refusal with the back office's own sentence beside", async () => {
    setLang("fr");
    const change = { kind: "request.transition", at: "2026-03-01T09:00:00Z", resolution: null, overtaken_by: null };
    detail.mockResolvedValue(
      request({
        changes: [
          { ...change, state: "refused", refusal_code: "transition", server_status: null, reason: "dispatch is not possible (transition)" },
          { ...change, state: "conflict", refusal_code: null, server_status: "in_processing", reason: "cancel is no longer possible" },
          { ...change, state: "conflict", refusal_code: null, server_status: "ready", overtaken_by: "civil-registry:anna", reason: "civil-registry:anna moved the request" },
        ],
      }),
    );
    const screen = requestsScreen(screenCtx(), "K7XA-0000-042E");
    document.body.replaceChildren(screen.el);
    await vi.waitFor(() => expect(document.querySelectorAll("#changes li")).toHaveLength(3));
    const [refused, conflict, overtaken] = [...document.querySelectorAll("#changes li")].map((li) => li.textContent ?? "");
    expect(refused).toContain(t("change.why.transition"));
    expect(refused).toContain("dispatch is not possible (transition)");
    expect(conflict).toContain(t("change.why.conflict", { status: t("request.status.in_processing") }));
    expect(conflict).not.toContain("cancel is no longer possible");
    expect(overtaken).toContain(t("change.why.overtaken", { by: "civil-registry:anna", status: t("request.status.ready") }));
    // Only the back office's own words are marked English.
    expect(document.querySelector("#changes [lang=en]")!.textContent).toBe("dispatch is not possible (transition)");
    screen.stop();
    setLang("en");
  });
});
