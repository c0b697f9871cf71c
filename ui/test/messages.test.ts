import { beforeEach, describe, expect, it } from "vitest";
import type { FieldProblem, Role } from "../src/api";
import { has, setLang } from "../src/i18n";
import { CoreError, explain, explainProblem, fromShell } from "../src/messages";

// As the shell sends them (see src-tauri/src/commands/tests.rs for the core's side).
const transition = {
  message: "request K7XA-0000-042E is submitted: the centre cannot dispatch it (the fee is not paid: record a payment or a waiver before dispatching)",
  key: "error.transition",
  args: {
    request: "K7XA-0000-042E",
    from: ["request.status.submitted"],
    action: ["action.dispatch"],
    refusal: { key: "error.refusal.fee_unpaid", args: {} },
  },
};

const tooLong: FieldProblem = {
  field: "prints",
  problem: "must have at most 4 characters (has 5)",
  key: "form.problem.too_long",
  args: { max: "4", len: "5" },
};

describe("the core's messages", () => {
  beforeEach(() => setLang("en"));

  it("turn what the shell sends into errors that keep the key", () => {
    const err = fromShell(transition);
    expect(err).toBeInstanceOf(CoreError);
    expect(err.message).toBe(transition.message);
    expect((err as CoreError).key).toBe("error.transition");
    const plain = fromShell("invalid args `receipt` for command `request`");
    expect(plain.message).toBe("invalid args `receipt` for command `request`");
    expect((plain as CoreError).key).toBeNull();
  });

  it("say a refusal in French, with statuses and actions in the window's words", () => {
    setLang("fr");
    expect(explain(fromShell(transition))).toBe(
      "la demande K7XA-0000-042E est soumise : « Transmettre » est impossible (le tarif n'est pas payé : enregistrez un paiement ou une exonération avant de transmettre)",
    );
    setLang("en");
    expect(explain(fromShell(transition))).toBe(
      "request K7XA-0000-042E is submitted: “Dispatch” is not possible (the fee is not paid: record a payment or a waiver before dispatching)",
    );
  });

  it("write amounts and lists as the language does", () => {
    setLang("fr");
    const tooMuch = fromShell({
      message: "payment for request K7XA-0000-042E refused: 7.00 EUR is more than the 6.00 EUR still owed",
      key: "error.payment.too_much",
      args: {
        request: "K7XA-0000-042E",
        paid: { minor: 700, currency: "EUR" },
        owed: { minor: 600, currency: "EUR" },
      },
    });
    expect(explain(tooMuch).replace(/\s/g, " ")).toBe(
      "paiement refusé pour la demande K7XA-0000-042E : 7,00 €, c'est plus que les 6,00 € encore dus",
    );
    const notAllowed = fromShell({
      message: "dispatch is not possible from draft; possible now: submit, cancel",
      key: "error.refusal.not_allowed",
      args: { from: ["request.status.draft"], action: ["action.dispatch"], possible: ["action.submit", "action.cancel"] },
    });
    expect(explain(notAllowed)).toBe(
      "« Transmettre » n'est pas possible quand la demande est brouillon ; possible maintenant : Soumettre, Annuler",
    );
  });

  it("name the documents a submission waits for in the window's language", () => {
    const missing = fromShell({
      message: "request K7XA-0000-042E: submit waits for these documents to be marked received: Birth certificate, Proof of address; tick each one as the citizen hands it in",
      key: "error.documents_missing",
      args: {
        request: "K7XA-0000-042E",
        action: ["action.submit"],
        documents: [
          { en: "Birth certificate", fr: "Acte de naissance" },
          { en: "Proof of address", fr: "Justificatif de domicile" },
        ],
      },
    });
    expect(explain(missing)).toContain("marked received: Birth certificate, Proof of address;");
    setLang("fr");
    expect(explain(missing)).toContain("marquées reçues : Acte de naissance, Justificatif de domicile ;");
  });

  it("quote a day as the window writes days, not as the core does", () => {
    const past: FieldProblem = {
      field: "test-date",
      problem: "2020-01-01 is in the past; enter today or a later date",
      key: "form.problem.in_the_past",
      args: { date: "2020-01-01" },
    };
    expect(explainProblem(past)).toBe("1 Jan 2020 is in the past; enter today or a later date");
    setLang("fr");
    expect(explainProblem(past)).toBe("le 1 janv. 2020 est dans le passé ; saisissez la date du jour ou une date ultérieure");
    setLang("en");
    const typed: FieldProblem = {
      field: "test-date",
      problem: "'2020-02-31' is not a date",
      key: "form.problem.not_a_date",
      args: { input: "2020-02-31" },
    };
    expect(explainProblem(typed)).toContain("2020-02-31");
  });

  it("fall back to the core's English for a key the window does not know", () => {
    setLang("fr");
    const unknown = fromShell({ message: "something new went wrong", key: "error.not_in_any_locale", args: {} });
    expect(explain(unknown)).toBe("something new went wrong");
    const unknownTerm = fromShell({ ...transition, args: { ...transition.args, from: ["request.status.lost"] } });
    expect(explain(unknownTerm)).toBe(transition.message);
    expect(explain(fromShell({ message: "stored date 'x' is not a date" }))).toBe("stored date 'x' is not a date");
    expect(explain(new Error("plain"))).toBe("plain");
  });

  it("say a form problem with its values, in English as the core does", () => {
    expect(explainProblem(tooLong)).toBe("must have at most 4 characters (has 5)");
    setLang("fr");
    expect(explainProblem(tooLong)).toBe("doit compter au plus 4 caractères (en compte 5)");
    const nationalId: FieldProblem = {
      field: "id",
      problem: "national id '376' is not valid under Estonian personal code (11 digits): it must be exactly 11 digits (got 3 characters)",
      key: "national_id.length",
      args: { input: "376", got: "3" },
    };
    expect(explainProblem(nationalId)).toBe(
      "le numéro d'identification « 376 » n'est pas un code personnel estonien valide (11 chiffres) : il doit compter exactement 11 chiffres (3 caractères saisis)",
    );
    const birthDate = fromShell({
      message: "birth date: '31/02/1990' is not a date; write it as YYYY-MM-DD or DD/MM/YYYY",
      key: "error.birth_date",
      args: { problem: { key: "form.problem.not_a_date", args: { input: "31/02/1990" } } },
    });
    expect(explain(birthDate)).toBe(
      "date de naissance : « 31/02/1990 » n'est pas une date ; écrivez-la sous la forme AAAA-MM-JJ ou JJ/MM/AAAA",
    );
  });

  it("say the login and session refusals in French, roles in the window's words", () => {
    setLang("fr");
    const role = fromShell({
      message: "this needs the supervisor role (do a supervisor's work)",
      key: "error.role",
      args: { role: ["role.supervisor"], act: ["act.supervise"] },
    });
    expect(explain(role)).toBe("cela demande le rôle superviseur (faire le travail d'un superviseur)");
    const wait = fromShell({ message: "too many failed attempts", key: "error.login.wait", args: { seconds: "45" } });
    expect(explain(wait)).toBe("trop de tentatives échouées : attendez 45 s avant de réessayer");
    const short = fromShell({
      message: "this password cannot be used: it must have at least 10 characters; a few words make a good one",
      key: "error.password.too_short",
      args: { min: "10", max: "128" },
    });
    expect(explain(short)).toBe(
      "ce mot de passe ne peut pas être utilisé : il doit compter au moins 10 caractères ; quelques mots en font un bon",
    );
    setLang("en");
    expect(explain(fromShell({ message: "x", key: "error.login.failed", args: {} }))).toBe(
      "the user name or the password is wrong",
    );
    expect(explain(fromShell({ message: "x", key: "error.session.locked", args: {} }))).toBe(
      "the screen is locked: unlock it first",
    );
  });

  it("have a word for every role", () => {
    for (const role of ["clerk", "supervisor", "administrator"] satisfies Role[]) {
      for (const l of ["en", "fr"] as const) expect(has(`role.${role}`, l), `${l} role.${role}`).toBe(true);
    }
  });
});
