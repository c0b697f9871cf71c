// Intake: find or register the citizen, choose the service (search or browse), see what it
// needs, fill its form with validation as you type, take the request, the payment or the
// waiver, submit, and hand over the receipt. Several requests in one visit.

import {
  api,
  type Browse,
  type BrowseEntry,
  type Citizen,
  type FieldProblem,
  type FormField,
  type Paper,
  type PaymentMethod,
  type RequestDetail,
  type ServiceHit,
  type ServiceView,
} from "../api";
import { TYPING_PAUSE_MS, emptyVisit, unfinishedRequests, type Ctx, type Unfinished } from "../app";
import { approvalBox } from "../approval";
import { documentChecklist } from "../documents";
import { field, fill, h } from "../dom";
import { amountForInput, formatDate, formatDateTime, formatMoney, lang, readAmount, t, text } from "../i18n";
import { CoreError, explain, explainProblem } from "../messages";
import { registerFieldsOf, type RegisterField } from "../register";
import { catalogueIndex } from "./queue";

export interface IntakeScreen {
  el: HTMLElement;
  /** Shows the screen for the visit at the counter now, with no service chosen yet. */
  show(): void;
  focusSearch(): void;
}

type BrowseBy = "life_events" | "target_groups" | "categories";

export function intakeScreen(ctx: Ctx): IntakeScreen {
  const citizenBox = h("div", { class: "card", id: "citizen-box", "aria-labelledby": "citizen-title" });
  const serviceBox = h("div", { class: "card", id: "service-box", "aria-labelledby": "service-title" });
  const detailBox = h("div", {
    class: "card",
    id: "service-detail",
    "aria-live": "polite",
    "data-empty": t("intake.detail.empty"),
  });
  const visitBox = h("aside", { class: "card", id: "visit-box", "aria-labelledby": "visit-title" });
  const search = h("input", {
    id: "service-search",
    type: "search",
    autocomplete: "off",
    placeholder: t("intake.service.search_hint"),
  });

  // The citizen ------------------------------------------------------------------------------
  // The find and register forms are made once and emptied for each citizen: the screen is
  // kept from one visit to the next (see `show`).
  const findId = h("input", { id: "citizen-id", autocomplete: "off", inputmode: "numeric" });
  const findName = h("input", { id: "citizen-name", autocomplete: "off" });
  const findBorn = h("input", { id: "citizen-born", autocomplete: "off", placeholder: t("date.hint") });
  const found = h("div", { id: "citizen-results", "aria-live": "polite" });
  const findError = h("p", { class: "error", role: "alert" });
  const findForm = h(
    "form",
    {
      onsubmit: (e: Event) => {
        e.preventDefault();
        void ctx.act("find_citizen", async () => {
          findError.textContent = "";
          try {
            const citizens = findId.value.trim()
              ? await api.findCitizens({ NationalId: findId.value })
              : await api.findCitizens({ Name: { name: findName.value, birth_date: findBorn.value } });
            drawFound(citizens);
          } catch (err) {
            findError.textContent = explain(err);
            fill(found);
          }
        });
      },
    },
    field(t("intake.citizen.id"), findId),
    h("p", { class: "muted" }, t("intake.citizen.or_name")),
    field(t("intake.citizen.name"), findName),
    field(t("intake.citizen.born"), findBorn),
    h("button", { type: "submit", id: "find-citizen" }, t("intake.citizen.find")),
    findError,
  );

  function drawFound(citizens: Citizen[]): void {
    if (citizens.length === 0) {
      fill(found, h("p", {}, t("intake.citizen.none")), registerForm(findId.value, findBorn.value));
      regId.focus();
      return;
    }
    fill(
      found,
      h(
        "ul",
        { class: "choices" },
        citizens.map((c) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "choice", onclick: () => choose(c) },
              `${c.given_name} ${c.family_name} · ${c.national_id} · ${formatDate(c.birth_date)}`,
            ),
          ),
        ),
      ),
    );
    if (citizens.length === 1) (found.querySelector("button") as HTMLButtonElement | null)?.focus();
  }

  function drawCitizen(): void {
    const c = ctx.visit.citizen;
    if (c) {
      fill(
        citizenBox,
        h("h2", { id: "citizen-title" }, t("intake.citizen.title")),
        h("p", { id: "citizen-chosen", class: "strong" }, `${c.given_name} ${c.family_name}`),
        h("p", {}, t("intake.citizen.id_born", { id: c.national_id, born: formatDate(c.birth_date) })),
        h(
          "button",
          {
            type: "button",
            id: "change-citizen",
            onclick: () => {
              ctx.visit = { ...ctx.visit, citizen: null };
              drawCitizen();
            },
          },
          t("intake.citizen.change"),
        ),
      );
      return;
    }
    for (const input of [findId, findName, findBorn]) input.value = "";
    findError.textContent = "";
    fill(found);
    fill(citizenBox, h("h2", { id: "citizen-title" }, t("intake.citizen.title")), findForm, found);
    setTimeout(() => findId.focus(), 0);
  }

  const regId = h("input", { id: "reg-id", autocomplete: "off" });
  const regGiven = h("input", { id: "reg-given", autocomplete: "off" });
  const regFamily = h("input", { id: "reg-family", autocomplete: "off" });
  const regBorn = h("input", { id: "reg-born", placeholder: t("date.hint"), autocomplete: "off" });
  const regPhone = h("input", { id: "reg-phone", type: "tel", autocomplete: "off" });
  const regEmail = h("input", { id: "reg-email", type: "email", autocomplete: "off" });
  const regError = h("p", { class: "error", role: "alert", id: "register-error" });
  // Each field has its own message, tied to it (aria-describedby), cleared as it is retyped.
  const regFields: Record<RegisterField, HTMLInputElement> = {
    id: regId,
    given: regGiven,
    family: regFamily,
    born: regBorn,
    phone: regPhone,
    email: regEmail,
  };
  const regMessages = new Map<RegisterField, HTMLElement>();
  for (const [name, input] of Object.entries(regFields) as [RegisterField, HTMLInputElement][]) {
    const message = h("span", { class: "field-error", id: `reg-${name}-error` });
    regMessages.set(name, message);
    input.addEventListener("input", () => markRegister(name, ""));
  }
  function markRegister(name: RegisterField, message: string): void {
    regMessages.get(name)!.textContent = message;
    if (message) regFields[name].setAttribute("aria-invalid", "true");
    else regFields[name].removeAttribute("aria-invalid");
  }
  function clearRegister(): void {
    regError.textContent = "";
    for (const name of regMessages.keys()) markRegister(name, "");
  }
  /** Shows the core's refusal beside the field it is about, or below the form. */
  function registerRefused(err: unknown): void {
    clearRegister();
    const typed = Object.fromEntries(
      Object.entries(regFields).map(([name, input]) => [name, input.value.trim()]),
    ) as Record<RegisterField, string>;
    const names = registerFieldsOf(err instanceof CoreError ? err.key : null, typed, err instanceof CoreError ? err.args.field : null);
    if (names.length === 0) {
      regError.textContent = explain(err);
      return;
    }
    for (const name of names) markRegister(name, explain(err));
    regFields[names[0]].focus();
  }
  const regForm = h(
    "form",
    {
      id: "register-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void ctx.act("register_citizen", async () => {
          try {
            const c = await api.registerCitizen({
              national_id: regId.value,
              given_name: regGiven.value,
              family_name: regFamily.value,
              birth_date: regBorn.value,
              phone: regPhone.value.trim() || null,
              email: regEmail.value.trim() || null,
              address: null,
            });
            clearRegister();
            choose(c);
          } catch (err) {
            registerRefused(err);
          }
        });
      },
    },
    h("h3", {}, t("intake.citizen.register")),
    field(t("intake.citizen.id"), regId, regMessages.get("id")),
    field(t("intake.citizen.given"), regGiven, regMessages.get("given")),
    field(t("intake.citizen.family"), regFamily, regMessages.get("family")),
    field(t("intake.citizen.born"), regBorn, regMessages.get("born")),
    field(t("intake.citizen.phone"), regPhone, regMessages.get("phone")),
    field(t("intake.citizen.email"), regEmail, regMessages.get("email")),
    regError,
    h("div", { class: "sticky-actions" }, h("button", { type: "submit", id: "register-citizen", class: "primary" }, t("intake.citizen.register_submit"))),
  );

  /** The register form, emptied, with what the clerk searched by already in. */
  function registerForm(nationalId: string, birth: string): HTMLElement {
    for (const input of [regGiven, regFamily, regPhone, regEmail]) input.value = "";
    regId.value = nationalId;
    regBorn.value = birth;
    clearRegister();
    return regForm;
  }

  function choose(c: Citizen): void {
    ctx.visit = { ...ctx.visit, citizen: c };
    drawCitizen();
    search.focus();
  }

  // The service ------------------------------------------------------------------------------
  const browseBy = h(
    "select",
    { id: "browse-by" },
    ...(["life_events", "target_groups", "categories"] as BrowseBy[]).map((b) =>
      h("option", { value: b }, t(`intake.browse.${b}`)),
    ),
  );
  const browseList = h("ul", { class: "choices", id: "browse-list" });
  const results = h("ul", { class: "choices", id: "service-results", "aria-live": "polite" });
  let browse: Browse | null = null;
  let searchTimer: ReturnType<typeof setTimeout> | undefined;

  function drawBrowse(): void {
    if (!browse) return;
    const by = browseBy.value as BrowseBy;
    const entries: BrowseEntry[] = browse[by];
    fill(
      browseList,
      entries.map((entry) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "choice",
              onclick: () => {
                const filter = by === "life_events" ? "life_event" : by === "target_groups" ? "target_group" : "category";
                void runSearch({ [filter]: entry.code });
              },
            },
            `${text(entry.name)} (${entry.services})`,
          ),
        ),
      ),
    );
  }
  browseBy.addEventListener("change", drawBrowse);

  async function runSearch(filters: Record<string, string> = {}): Promise<void> {
    await ctx.act("search", async () => {
      const hits = await api.searchServices({ text: search.value.trim() || null, ...filters, limit: 20 });
      drawHits(hits);
    });
  }

  function drawHits(hits: ServiceHit[]): void {
    fill(
      results,
      hits.length === 0
        ? h("li", { class: "muted" }, t("intake.service.none"))
        : hits.map((hit) =>
            h(
              "li",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: "choice",
                  "data-code": hit.code,
                  onclick: () => void openService(hit.code),
                },
                h("span", { class: "strong" }, text(hit.title)),
                h(
                  "span",
                  { class: "muted" },
                  ` · ${feeText(hit.fee)} · ${t("intake.service.days", { count: hit.processing_days })} · ${
                    hit.depth_here ? t(`depth.${hit.depth_here}`) : t("depth.none")
                  }`,
                ),
              ),
            ),
          ),
    );
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => void runSearch(), TYPING_PAUSE_MS);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(searchTimer);
      void runSearch();
    }
    if (e.key === "ArrowDown") {
      e.preventDefault();
      (results.querySelector("button") as HTMLButtonElement | null)?.focus();
    }
  });

  fill(
    serviceBox,
    h("h2", { id: "service-title" }, t("intake.service.title")),
    field(t("intake.service.search"), search),
    results,
    field(t("intake.browse.by"), browseBy),
    browseList,
  );

  // The chosen service, its form and the request ----------------------------------------------
  // Each service's form fields and document boxes are made the first time it is shown and
  // reused after, emptied: WebKitGTK keeps part of every form field a page has shown until
  // the page goes away (about 1 KB a text field), so making them for every visit would add
  // up over a day at the counter.
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>();
  function control<T extends HTMLInputElement | HTMLSelectElement>(key: string, make: () => T): T {
    const known = controls.get(key) as T | undefined;
    if (known) return known;
    const made = make();
    controls.set(key, made);
    return made;
  }

  function feeText(fee: ServiceView["fee"]): string {
    return fee.kind === "free" ? t("fee.free") : formatMoney(fee.amount.minor, fee.amount.currency);
  }

  async function openService(code: string): Promise<void> {
    await ctx.act("open_service", async () => {
      const service = await api.service(code);
      drawService(service);
    });
  }

  function drawService(service: ServiceView): void {
    const values: Record<string, string> = {};
    const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
    const messages = new Map<string, HTMLElement>();
    const docs = new Map<string, HTMLInputElement>();
    const error = h("p", { class: "error", role: "alert", id: "intake-error" });
    let checkTimer: ReturnType<typeof setTimeout> | undefined;

    function input(f: FormField): HTMLInputElement | HTMLSelectElement {
      const el = control(`form/${service.code}/${f.code}`, () => {
        const common = { id: `form-${f.code}`, name: f.code, required: f.required, autocomplete: "off" };
        if (f.type === "choice") {
          return h(
            "select",
            common,
            h("option", { value: "" }, t("form.choose")),
            ...(f.options ?? []).map((o) => h("option", { value: o.code }, text(o.label))),
          );
        }
        return h("input", {
          ...common,
          inputmode: f.type === "number" || f.type === "national_id" ? "numeric" : null,
          placeholder: f.type === "date" ? t("date.hint") : null,
        });
      });
      el.value = "";
      el.removeAttribute("aria-invalid");
      return el;
    }

    function showProblems(problems: FieldProblem[], all: boolean): void {
      for (const [code, msg] of messages) {
        const problem = problems.find((p) => p.field === code);
        const touched = all || (values[code] ?? "") !== "";
        const shown = problem && (touched || problem.key !== "form.problem.required") ? problem : undefined;
        msg.textContent = shown ? explainProblem(shown) : "";
        inputs.get(code)?.setAttribute("aria-invalid", shown ? "true" : "false");
      }
    }

    // Once a take was refused for the form's problems, their count is shown and follows the
    // fields as the clerk corrects them, going when none is left.
    let counted = false;

    async function check(all = false): Promise<FieldProblem[]> {
      const problems = await api.checkForm(service.code, values);
      showProblems(problems, all || counted);
      if (counted) {
        counted = problems.length > 0;
        error.textContent = counted ? t("intake.form_problems", { count: problems.length }) : "";
      }
      return problems;
    }

    const fields = service.form.map((f) => {
      const el = input(f);
      const msg = h("span", { class: "field-error", "aria-live": "polite" });
      inputs.set(f.code, el);
      messages.set(f.code, msg);
      // A property rather than a listener: the field is reused, and only this drawing's
      // values may hear it.
      el.oninput = () => {
        values[f.code] = el.value;
        if (el.value.trim() === "") delete values[f.code];
        clearTimeout(checkTimer);
        checkTimer = setTimeout(() => void ctx.act("validate", async () => void (await check())), TYPING_PAUSE_MS);
      };
      return field(`${text(f.label)}${f.required ? " *" : ""}`, el, msg);
    });

    const checklist = service.documents.map((d) => {
      const box = control(`doc/${service.code}/${d.code}`, () => h("input", { type: "checkbox", id: `doc-${d.code}` }));
      box.checked = false;
      docs.set(d.code, box);
      return h(
        "li",
        {},
        box,
        h("label", { for: box.id }, `${text(d.name)} (${t(`document.${d.kind}`)})`),
      );
    });

    const canTake = service.depth_here === "partial" || service.depth_here === "complete";
    const fee = service.fee;
    fill(
      detailBox,
      h("h2", { id: "detail-title" }, text(service.title)),
      h("p", {}, text(service.description)),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("intake.detail.here")),
        h("dd", { id: "detail-depth" }, service.depth_here ? t(`depth.${service.depth_here}`) : t("depth.none")),
        h("dt", {}, t("intake.detail.fee")),
        h(
          "dd",
          { id: "detail-fee" },
          feeText(fee),
          service.exemptions.length
            ? ` · ${t("intake.detail.exempt", {
                groups: service.exemptions
                  .map((code) => text(browse?.target_groups.find((g) => g.code === code)?.name) || code)
                  .join(", "),
              })}`
            : "",
        ),
        h("dt", {}, t("intake.detail.processing")),
        h(
          "dd",
          { id: "detail-due" },
          t("intake.detail.due", { count: service.processing_days, due: formatDate(service.due_date) }),
        ),
      ),
      service.documents.length
        ? h(
            "fieldset",
            { class: "checklist" },
            h("legend", {}, t("intake.detail.documents")),
            h("ul", {}, checklist),
          )
        : h("p", { class: "muted" }, t("intake.detail.no_documents")),
      canTake
        ? h(
            "form",
            {
              id: "service-form",
              novalidate: true,
              onsubmit: (e: Event) => {
                e.preventDefault();
                void take();
              },
            },
            h("fieldset", {}, h("legend", {}, t("intake.detail.form")), fields),
            error,
            h("div", { class: "sticky-actions" }, h("button", { type: "submit", id: "take-request", class: "primary" }, t("intake.take"))),
          )
        : h("p", { class: "notice", id: "information-only" }, t("intake.information_only")),
    );
    (detailBox.querySelector("input, select") as HTMLElement | null)?.focus();

    async function take(): Promise<void> {
      await ctx.act("take_request", async () => {
        error.textContent = "";
        const citizen = ctx.visit.citizen;
        if (!citizen) {
          error.textContent = t("intake.need_citizen");
          return;
        }
        const problems = await check(true);
        counted = problems.length > 0;
        if (counted) {
          error.textContent = t("intake.form_problems", { count: problems.length });
          inputs.get(problems[0].field)?.focus();
          return;
        }
        try {
          const request = await api.createRequest({
            citizen: citizen.national_id,
            service: service.code,
            form: values,
            documents_received: [...docs].filter(([, box]) => box.checked).map(([code]) => code),
            visit: ctx.visit.ticket?.status === "serving" ? ctx.visit.ticket.visit : null,
            submit: false,
          });
          ctx.visit = { ...ctx.visit, requests: [...ctx.visit.requests, request] };
          drawTaken(request);
          drawVisit();
        } catch (err) {
          error.textContent = explain(err);
        }
      });
    }
  }

  // The payment and the waiver: made once, like the citizen forms, and filled for the request
  // just taken.
  let taken: RequestDetail | null = null;
  /** The confirmation of the payment just recorded, shown until the next request is drawn. */
  let recorded = "";
  const payError = h("p", { class: "error", role: "alert", id: "payment-error" });
  const submitError = h("p", { class: "error", role: "alert", id: "submit-error" });
  const payAmount = h("input", { id: "pay-amount", inputmode: "decimal", autocomplete: "off" });
  // Typing again clears the refusal of the amount typed before.
  payAmount.addEventListener("input", () => {
    payAmount.removeAttribute("aria-invalid");
    payError.textContent = "";
  });
  const payMethod = h(
    "select",
    { id: "pay-method" },
    ...(["cash", "card", "mobile_money"] as PaymentMethod[]).map((m) => h("option", { value: m }, t(`payment.${m}`))),
  );
  const waiveGround = h("input", { id: "waive-ground", autocomplete: "off" });
  // A waiver needs a supervisor's approval, typed here by the supervisor.
  const waiveApproval = approvalBox("waive-approval");
  const feeDue = h("p", { id: "fee-due" });
  const paymentForms = h(
    "div",
    { class: "payment" },
    feeDue,
    h(
      "form",
      {
        id: "pay-form",
        onsubmit: (e: Event) => {
          e.preventDefault();
          const fee = taken?.fee;
          if (!fee) return;
          // An amount that cannot be read for sure is refused here, before anything is written.
          const amount = readAmount(payAmount.value, fee.currency);
          if (!amount.ok) {
            payError.textContent = amount.problem;
            payAmount.setAttribute("aria-invalid", "true");
            payAmount.focus();
            return;
          }
          void refreshTaken(async (receipt) => {
            const payment = await api.pay(receipt, amount.amount, payMethod.value as PaymentMethod);
            recorded = t("intake.pay.recorded", {
              amount: formatMoney(payment.amount.minor, payment.amount.currency),
              receipt: payment.receipt,
            });
            ctx.announce(recorded);
          }, "pay");
        },
      },
      field(t("intake.pay.amount"), payAmount),
      field(t("intake.pay.method"), payMethod),
      h("button", { type: "submit", id: "pay" }, t("intake.pay.submit")),
    ),
    h(
      "form",
      {
        id: "waive-form",
        onsubmit: (e: Event) => {
          e.preventDefault();
          const approval = waiveApproval.take();
          void refreshTaken((receipt) => api.waive(receipt, waiveGround.value, approval), "waive");
        },
      },
      field(t("intake.waive.ground"), waiveGround),
      waiveApproval.el,
      h("button", { type: "submit", id: "waive" }, t("intake.waive.submit")),
    ),
  );

  /** Runs a step on the request taken (given its receipt), then shows it as the core has it
   * now; a refusal shows in `shown` (the payment's place unless said otherwise). */
  async function refreshTaken(
    step: (receipt: string) => Promise<unknown>,
    label: string,
    shown: HTMLElement = payError,
  ): Promise<void> {
    const receipt = taken?.receipt;
    if (!receipt) return;
    await ctx.act(label, async () => {
      try {
        await step(receipt);
        showTaken(await api.request(receipt));
      } catch (err) {
        shown.textContent = explain(err);
      }
    });
  }

  /** Shows the request taken as the core has it now, in its place and in the visit. */
  function showTaken(fresh: RequestDetail): void {
    ctx.visit = {
      ...ctx.visit,
      requests: ctx.visit.requests.map((r) => (r.receipt === fresh.receipt ? fresh : r)),
    };
    drawTaken(fresh);
    drawVisit();
  }

  function drawTaken(request: RequestDetail): void {
    if (taken?.receipt !== request.receipt) recorded = "";
    taken = request;
    payError.textContent = "";
    submitError.textContent = "";
    payAmount.removeAttribute("aria-invalid");
    const owed = request.fee ? Math.max(0, request.fee.minor - request.paid_minor) : 0;
    const settled = !request.fee || owed === 0 || request.waiver_ground !== null;
    if (!settled) {
      feeDue.textContent = t("intake.due_now", { amount: formatMoney(owed, request.fee!.currency) });
      payAmount.value = amountForInput(owed, request.fee!.currency);
      payMethod.value = "cash";
      waiveGround.value = "";
    }
    const payment = settled
      ? h(
          "p",
          { id: "fee-settled" },
          !request.fee
            ? t("fee.free")
            : request.waiver_ground
              ? t("intake.waived", { ground: request.waiver_ground })
              : t("intake.paid", { amount: formatMoney(request.paid_minor, request.fee.currency) }),
        )
      : paymentForms;
    const printStatus = h("p", { id: "print-status", role: "status" });

    fill(
      detailBox,
      h("h2", {}, t("intake.taken.title")),
      h("p", { class: "muted" }, text(request.service_title)),
      h("p", { class: "receipt-number", id: "receipt-number", "aria-label": t("intake.taken.receipt") }, request.receipt),
      h("p", { id: "request-status" }, t(`request.status.${request.status}`)),
      recorded ? h("p", { id: "payment-recorded", class: "confirmed", role: "status" }, recorded) : null,
      payment,
      payError,
      request.payments.length
        ? h(
            "ul",
            { class: "payments", id: "taken-payments", "aria-label": t("requests.detail.payments") },
            request.payments.map((p) =>
              h(
                "li",
                {},
                h("time", { datetime: p.at }, formatDateTime(p.at)),
                " ",
                t("requests.payment.line", {
                  amount: formatMoney(p.amount.minor, p.amount.currency),
                  method: t(`payment.${p.method}`),
                  receipt: p.receipt,
                }),
              ),
            ),
          )
        : null,
      documentChecklist("taken-documents", request, ctx.act, showTaken),
      submitError,
      h(
        "div",
        { class: "actions" },
        request.next_actions.includes("submit")
          ? h(
              "button",
              {
                type: "button",
                id: "submit-request",
                class: "primary",
                onclick: () => void refreshTaken((receipt) => api.advance(receipt, "submit", null), "submit", submitError),
              },
              t("intake.submit"),
            )
          : null,
        // A draft was never handed in: it has no receipt to print.
        request.status === "draft"
          ? null
          : h("button", { type: "button", id: "print-receipt", onclick: () => printReceipt(request, "roll80", printStatus) }, t("intake.print")),
        request.status === "draft"
          ? null
          : h("button", { type: "button", id: "print-receipt-a4", onclick: () => printReceipt(request, "a4", printStatus) }, t("intake.print_a4")),
        h(
          "button",
          {
            type: "button",
            id: "another-service",
            onclick: () => {
              fill(detailBox);
              search.value = "";
              search.focus();
            },
          },
          t("intake.another"),
        ),
      ),
    );
    detailBox.append(printStatus);
    (detailBox.querySelector("#submit-request, #pay-amount, #print-receipt") as HTMLElement | null)?.focus();
  }

  /** Prints the receipt on the counter's roll or on A4; a failure says why, and the buttons
   * stay to print again. */
  function printReceipt(request: RequestDetail, paper: Paper, status: HTMLElement): void {
    void ctx.act("print_receipt", async () => {
      status.textContent = "";
      try {
        await api.printSlip({ kind: "receipt", key: request.receipt, paper, lang: lang() });
        status.className = "notice";
        status.textContent = t("print.sent");
      } catch (err) {
        status.className = "error";
        status.textContent = explain(err);
      }
    });
  }

  function drawVisit(): void {
    const v = ctx.visit;
    fill(
      visitBox,
      h("h2", { id: "visit-title" }, t("intake.visit.title")),
      v.ticket ? h("p", {}, t("intake.visit.ticket", { code: v.ticket.code })) : h("p", { class: "muted" }, t("intake.visit.no_ticket")),
      v.requests.length
        ? h(
            "ul",
            { id: "visit-requests" },
            v.requests.map((r) =>
              h("li", {}, h("span", { class: "code" }, r.receipt), " ", text(r.service_title), " · ", t(`request.status.${r.status}`)),
            ),
          )
        : h("p", { class: "muted" }, t("intake.visit.none")),
      h(
        "button",
        {
          type: "button",
          id: "end-visit",
          onclick: () =>
            void ctx.act("end_visit", async () => {
              // As the core has them now: a request may have moved on the requests screen.
              const fresh = await Promise.all(ctx.visit.requests.map((r) => api.request(r.receipt)));
              ctx.visit = { ...ctx.visit, requests: fresh };
              const left = unfinishedRequests(fresh);
              if (left.length === 0) await endVisit();
              else drawEndWarning(left);
            }),
        },
        t("intake.visit.end"),
      ),
      endWarning,
    );
  }

  // Ending a visit with a request left as a draft or unpaid asks first, naming each.
  const endWarning = h("div", { id: "end-visit-warning", class: "confirm", role: "alertdialog", "aria-labelledby": "end-visit-warning-title", hidden: true });

  function drawEndWarning(left: Unfinished[]): void {
    fill(
      endWarning,
      h("p", { id: "end-visit-warning-title", class: "strong" }, t("intake.visit.unfinished", { count: left.length })),
      h(
        "ul",
        {},
        left.map((u) =>
          h(
            "li",
            {},
            h("span", { class: "code" }, u.request.receipt),
            " ",
            text(u.request.service_title),
            " · ",
            [
              u.draft ? t("intake.visit.still_draft") : null,
              u.owed > 0 && u.request.fee ? t("intake.visit.still_owed", { amount: formatMoney(u.owed, u.request.fee.currency) }) : null,
            ]
              .filter((why) => why !== null)
              .join(" · "),
          ),
        ),
      ),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            id: "end-visit-back",
            class: "primary",
            onclick: () => {
              endWarning.hidden = true;
              drawTaken(left[0].request);
            },
          },
          t("intake.visit.back"),
        ),
        h("button", { type: "button", id: "end-visit-anyway", class: "danger", onclick: () => void ctx.act("end_visit", endVisit) }, t("intake.visit.end_anyway")),
      ),
    );
    endWarning.hidden = false;
    (endWarning.querySelector("#end-visit-back") as HTMLElement | null)?.focus();
  }

  async function endVisit(): Promise<void> {
    endWarning.hidden = true;
    const ticket = ctx.visit.ticket;
    if (ticket?.status === "serving") {
      const done = await api.finishService(ticket.code);
      ctx.visit = { ...ctx.visit, ticket: done };
      ctx.go("feedback");
    } else {
      // A walk-in (or a ticket already finished): no feedback to ask for, since it is kept
      // per ticket; the next intake starts with nobody chosen.
      ctx.visit = emptyVisit();
      ctx.go("queue");
    }
  }

  void catalogueIndex().then((b) => {
    browse = b;
    drawBrowse();
  });

  const el = h(
    "section",
    { class: "screen intake", "aria-labelledby": "intake-title" },
    h("h1", { id: "intake-title", class: "visually-hidden" }, t("nav.intake")),
    h("div", { class: "intake-grid" }, citizenBox, serviceBox, detailBox, visitBox),
  );
  /**
   * Takes up the visit at this counter when the window knows none (after a restart, or
   * another clerk's session): the ticket being served, the requests taken during it and their
   * citizen, as the core has them.
   */
  async function resumeVisit(): Promise<void> {
    const v = ctx.visit;
    if (v.ticket || v.citizen || v.requests.length) return;
    const { current } = await api.queueView(ctx.counter);
    if (current?.status !== "serving" || !current.visit) return;
    const listed = await api.listRequests({ status: null, service: null, citizen: null, overdue: false, limit: null, visit: current.visit });
    // The list is newest first; the visit shows them in the order they were taken.
    const requests = await Promise.all(listed.reverse().map((r) => api.request(r.receipt)));
    const first = requests[0];
    const citizen = first ? (await api.findCitizens({ NationalId: first.citizen_id }))[0] ?? null : null;
    // Unless the clerk started something else meanwhile.
    if (ctx.visit !== v) return;
    ctx.visit = { ticket: current, citizen, requests };
    if (citizen) drawCitizen();
    drawVisit();
  }

  return {
    el,
    show() {
      // As a screen made afresh: the service search starts empty; the citizen and the
      // requests are the visit's (none for a new visit).
      search.value = "";
      fill(results);
      fill(detailBox);
      endWarning.hidden = true;
      drawCitizen();
      drawVisit();
      void ctx.act("resume_visit", resumeVisit);
    },
    focusSearch() {
      search.focus();
      search.select();
    },
  };
}
