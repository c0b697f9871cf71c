// Intake's first step, the citizen: found by national ID or by name and birth date, registered
// when nobody is found, then chosen for the visit.

import { api, type Citizen } from "../../api";
import type { Ctx } from "../../app";
import { field, fill, h } from "../../dom";
import { formatDate, t } from "../../i18n";
import { CoreError, explain } from "../../messages";
import { registerFieldsOf, type RegisterField } from "../../register";

export interface CitizenHooks {
  /** The clerk chose the citizen (found or just registered), now the visit's. */
  chosen(): void;
}

export interface CitizenStep {
  el: HTMLElement;
  /** Shows the visit's citizen, or the find form emptied when the visit has none. */
  draw(): void;
}

export function citizenStep(ctx: Ctx, hooks: CitizenHooks): CitizenStep {
  const citizenBox = h("div", { class: "card", id: "citizen-box", "aria-labelledby": "citizen-title" });
  // The find and register forms are made once and emptied for each citizen: the screen is
  // kept from one visit to the next (see its `show`).
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
  const register = registerForm(ctx, choose);

  function drawFound(citizens: Citizen[]): void {
    if (citizens.length === 0) {
      fill(found, h("p", {}, t("intake.citizen.none")), register.emptied(findId.value, findBorn.value));
      register.focus();
      return;
    }
    fill(found, choices(citizens, choose));
    if (citizens.length === 1) (found.querySelector("button") as HTMLButtonElement | null)?.focus();
  }

  function drawCitizen(): void {
    const c = ctx.visit.citizen;
    if (c) {
      fill(
        citizenBox,
        h("h2", { id: "citizen-title" }, t("intake.citizen.title")),
        chosenCitizen(c, () => {
          ctx.visit = { ...ctx.visit, citizen: null };
          drawCitizen();
        }),
      );
      return;
    }
    for (const input of [findId, findName, findBorn]) input.value = "";
    findError.textContent = "";
    fill(found);
    fill(citizenBox, h("h2", { id: "citizen-title" }, t("intake.citizen.title")), findForm, found);
    setTimeout(() => findId.focus(), 0);
  }

  function choose(c: Citizen): void {
    ctx.visit = { ...ctx.visit, citizen: c };
    drawCitizen();
    hooks.chosen();
  }

  return { el: citizenBox, draw: drawCitizen };
}

/** The citizens found, each a choice. */
function choices(citizens: Citizen[], choose: (c: Citizen) => void): HTMLElement {
  return h(
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
  );
}

/** The citizen chosen, and the button that leaves them for another. */
function chosenCitizen(c: Citizen, change: () => void): HTMLElement[] {
  return [
    h("p", { id: "citizen-chosen", class: "strong" }, `${c.given_name} ${c.family_name}`),
    h("p", {}, t("intake.citizen.id_born", { id: c.national_id, born: formatDate(c.birth_date) })),
    h("button", { type: "button", id: "change-citizen", onclick: change }, t("intake.citizen.change")),
  ];
}

interface RegisterForm {
  /** The register form, emptied, with what the clerk searched by already in. */
  emptied(nationalId: string, birth: string): HTMLElement;
  focus(): void;
}

/** The form that registers a citizen the search did not find; `registered` takes them. */
function registerForm(ctx: Ctx, registered: (c: Citizen) => void): RegisterForm {
  const { inputs, messages, error, clear, refused } = registerFields();
  const form = h(
    "form",
    {
      id: "register-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void ctx.act("register_citizen", async () => {
          try {
            const c = await api.registerCitizen({
              national_id: inputs.id.value,
              given_name: inputs.given.value,
              family_name: inputs.family.value,
              birth_date: inputs.born.value,
              phone: inputs.phone.value.trim() || null,
              email: inputs.email.value.trim() || null,
              address: null,
            });
            clear();
            registered(c);
          } catch (err) {
            refused(err);
          }
        });
      },
    },
    h("h3", {}, t("intake.citizen.register")),
    field(t("intake.citizen.id"), inputs.id, messages.get("id")),
    field(t("intake.citizen.given"), inputs.given, messages.get("given")),
    field(t("intake.citizen.family"), inputs.family, messages.get("family")),
    field(t("intake.citizen.born"), inputs.born, messages.get("born")),
    field(t("intake.citizen.phone"), inputs.phone, messages.get("phone")),
    field(t("intake.citizen.email"), inputs.email, messages.get("email")),
    error,
    h("div", { class: "sticky-actions" }, h("button", { type: "submit", id: "register-citizen", class: "primary" }, t("intake.citizen.register_submit"))),
  );
  return {
    emptied(nationalId, birth) {
      for (const input of [inputs.given, inputs.family, inputs.phone, inputs.email]) input.value = "";
      inputs.id.value = nationalId;
      inputs.born.value = birth;
      clear();
      return form;
    },
    focus: () => inputs.id.focus(),
  };
}

interface RegisterFields {
  inputs: Record<RegisterField, HTMLInputElement>;
  messages: Map<RegisterField, HTMLElement>;
  /** Where a refusal about no field in particular shows, below the form. */
  error: HTMLElement;
  clear(): void;
  /** Shows the core's refusal beside the field it is about, or below the form. */
  refused(err: unknown): void;
}

/** The register form's fields. Each has its own message, tied to it (aria-describedby),
 * cleared as it is retyped. */
function registerFields(): RegisterFields {
  const inputs: Record<RegisterField, HTMLInputElement> = {
    id: h("input", { id: "reg-id", autocomplete: "off" }),
    given: h("input", { id: "reg-given", autocomplete: "off" }),
    family: h("input", { id: "reg-family", autocomplete: "off" }),
    born: h("input", { id: "reg-born", placeholder: t("date.hint"), autocomplete: "off" }),
    phone: h("input", { id: "reg-phone", type: "tel", autocomplete: "off" }),
    email: h("input", { id: "reg-email", type: "email", autocomplete: "off" }),
  };
  const error = h("p", { class: "error", role: "alert", id: "register-error" });
  const messages = new Map<RegisterField, HTMLElement>();
  for (const [name, input] of Object.entries(inputs) as [RegisterField, HTMLInputElement][]) {
    const message = h("span", { class: "field-error", id: `reg-${name}-error` });
    messages.set(name, message);
    input.addEventListener("input", () => mark(name, ""));
  }
  function mark(name: RegisterField, message: string): void {
    messages.get(name)!.textContent = message;
    if (message) inputs[name].setAttribute("aria-invalid", "true");
    else inputs[name].removeAttribute("aria-invalid");
  }
  function clear(): void {
    error.textContent = "";
    for (const name of messages.keys()) mark(name, "");
  }
  return {
    inputs,
    messages,
    error,
    clear,
    refused(err) {
      clear();
      const typed = Object.fromEntries(
        Object.entries(inputs).map(([name, input]) => [name, input.value.trim()]),
      ) as Record<RegisterField, string>;
      const names = registerFieldsOf(err instanceof CoreError ? err.key : null, typed, err instanceof CoreError ? err.args.field : null);
      if (names.length === 0) {
        error.textContent = explain(err);
        return;
      }
      for (const name of names) mark(name, explain(err));
      inputs[names[0]].focus();
    },
  };
}
