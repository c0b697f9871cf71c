// Intake's third step, the service chosen: what it needs (how far it is done here, its fee, how
// long it takes, the documents to bring), its form checked with the core as the clerk types,
// and taking the request for the visit's citizen.

import { api, type FieldProblem, type FormField, type RequestDetail, type ServiceView } from "../../api";
import { TYPING_PAUSE_MS, type Ctx } from "../../app";
import { field, fill, h, isBusy, whileBusy } from "../../dom";
import { formatDate, t, text } from "../../i18n";
import { explain, explainProblem } from "../../messages";
import { feeText } from "./service";

export interface FormHooks {
  /** The name of a target group, for the service's exemptions. */
  targetGroup(code: string): string;
  /** The request just taken, already in the visit. */
  taken(request: RequestDetail): void;
}

export interface FormStep {
  /** Shows the service `code` in the detail's place. */
  open(code: string): Promise<void>;
}

type Control = <T extends HTMLInputElement | HTMLSelectElement>(key: string, make: () => T) => T;

export function formStep(ctx: Ctx, place: HTMLElement, hooks: FormHooks): FormStep {
  // Each service's form fields and document boxes are made the first time it is shown and
  // reused after, emptied: WebKitGTK keeps part of every form field a page has shown until
  // the page goes away (about 1 KB a text field), so making them for every visit would add
  // up over a day at the counter.
  const control = controlCache();

  async function openService(code: string): Promise<void> {
    await ctx.act("open_service", async () => {
      const service = await api.service(code);
      drawService(service);
    });
  }

  function drawService(service: ServiceView): void {
    const form = serviceForm(ctx, service, control);
    const documents = documentBoxes(service, control);
    const canTake = service.depth_here === "partial" || service.depth_here === "complete";
    const takeButton = h("button", { type: "submit", id: "take-request", class: "primary" }, t("intake.take"));
    fill(
      place,
      h("h2", { id: "detail-title" }, text(service.title)),
      h("p", {}, text(service.description)),
      facts(service, hooks.targetGroup),
      documents.el,
      canTake
        ? h(
            "form",
            {
              id: "service-form",
              novalidate: true,
              onsubmit: (e: Event) => {
                e.preventDefault();
                // A second Enter or click while the request is being taken takes no second one.
                if (isBusy(takeButton)) return;
                void whileBusy(takeButton, () => take(service, form, documents.received));
              },
            },
            h("fieldset", {}, h("legend", {}, t("intake.detail.form")), form.fields),
            form.error,
            h("div", { class: "sticky-actions" }, takeButton),
          )
        : h("p", { class: "notice", id: "information-only" }, t("intake.information_only")),
    );
    (place.querySelector("input, select") as HTMLElement | null)?.focus();
  }

  /** Takes the request for the visit's citizen, with the documents `received` ticked. */
  async function take(service: ServiceView, form: ServiceForm, received: () => string[]): Promise<void> {
    await ctx.act("take_request", async () => {
      form.error.textContent = "";
      const citizen = ctx.visit.citizen;
      if (!citizen) {
        form.error.textContent = t("intake.need_citizen");
        return;
      }
      if (!(await form.complete())) return;
      try {
        const request = await api.createRequest({
          citizen: citizen.national_id,
          service: service.code,
          form: form.values,
          documents_received: received(),
          visit: ctx.visit.ticket?.status === "serving" ? ctx.visit.ticket.visit : null,
          submit: false,
        });
        ctx.visit = { ...ctx.visit, requests: [...ctx.visit.requests, request] };
        hooks.taken(request);
      } catch (err) {
        form.error.textContent = explain(err);
      }
    });
  }

  return { open: openService };
}

/** Controls made once by key, then the same one for that key. */
function controlCache(): Control {
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>();
  return <T extends HTMLInputElement | HTMLSelectElement>(key: string, make: () => T): T => {
    const known = controls.get(key) as T | undefined;
    if (known) return known;
    const made = make();
    controls.set(key, made);
    return made;
  };
}

interface DocumentBoxes {
  el: HTMLElement;
  /** The documents ticked as handed in, by code. */
  received(): string[];
}

/** The documents `service` needs, each a box to tick as the citizen hands it in. */
function documentBoxes(service: ServiceView, control: Control): DocumentBoxes {
  const docs = new Map<string, HTMLInputElement>();
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
  return {
    el: service.documents.length
      ? h(
          "fieldset",
          { class: "checklist" },
          h("legend", {}, t("intake.detail.documents")),
          h("ul", {}, checklist),
        )
      : h("p", { class: "muted" }, t("intake.detail.no_documents")),
    received: () => [...docs].filter(([, box]) => box.checked).map(([code]) => code),
  };
}

/** What the service is here: how far it is done at this centre, its fee and who is exempt,
 * and when it will be ready. */
function facts(service: ServiceView, targetGroup: (code: string) => string): HTMLElement {
  return h(
    "dl",
    { class: "facts" },
    h("dt", {}, t("intake.detail.here")),
    h("dd", { id: "detail-depth" }, service.depth_here ? t(`depth.${service.depth_here}`) : t("depth.none")),
    h("dt", {}, t("intake.detail.fee")),
    h(
      "dd",
      { id: "detail-fee" },
      feeText(service.fee),
      service.exemptions.length
        ? ` · ${t("intake.detail.exempt", { groups: service.exemptions.map((code) => targetGroup(code)).join(", ") })}`
        : "",
    ),
    h("dt", {}, t("intake.detail.processing")),
    h(
      "dd",
      { id: "detail-due" },
      t("intake.detail.due", { count: service.processing_days, due: formatDate(service.due_date) }),
    ),
  );
}

interface ServiceForm {
  /** The labelled fields, in the form's order. */
  fields: HTMLElement[];
  /** Where the take's refusal shows, below the fields. */
  error: HTMLElement;
  /** What the clerk typed, by field; a field left empty is not in. */
  values: Record<string, string>;
  /** Checks the whole form: with problems, counts them below it, puts the cursor on the first
   * and answers false. */
  complete(): Promise<boolean>;
}

/** The form of `service`, its fields emptied, checked with the core a pause after each key. */
function serviceForm(ctx: Ctx, service: ServiceView, control: Control): ServiceForm {
  const values: Record<string, string> = {};
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const messages = new Map<string, HTMLElement>();
  const error = h("p", { class: "error", role: "alert", id: "intake-error" });
  let checkTimer: ReturnType<typeof setTimeout> | undefined;

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
    const el = fieldInput(control, service.code, f);
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

  return {
    fields,
    error,
    values,
    async complete() {
      const problems = await check(true);
      counted = problems.length > 0;
      if (counted) {
        error.textContent = t("intake.form_problems", { count: problems.length });
        inputs.get(problems[0].field)?.focus();
      }
      return !counted;
    },
  };
}

/** The control for the form's field `f`, made once for the service and emptied. */
function fieldInput(control: Control, service: string, f: FormField): HTMLInputElement | HTMLSelectElement {
  const el = control(`form/${service}/${f.code}`, () => {
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
