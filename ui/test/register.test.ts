import { describe, expect, it } from "vitest";
import { registerFieldsOf, type RegisterField } from "../src/register";

const typed = (over: Partial<Record<RegisterField, string>> = {}): Record<RegisterField, string> => ({
  id: "38001085718",
  given: "Mari",
  family: "Tamm",
  born: "08/01/1980",
  phone: "",
  email: "",
  ...over,
});

describe("the register form's refusals", () => {
  it("sit beside the field they are about", () => {
    expect(registerFieldsOf("national_id.check_digit", typed())).toEqual(["id"]);
    expect(registerFieldsOf("error.duplicate.citizen", typed())).toEqual(["id"]);
    expect(registerFieldsOf("error.birth_date", typed())).toEqual(["born"]);
    expect(registerFieldsOf("error.citizen.born_in_the_future", typed())).toEqual(["born"]);
    expect(registerFieldsOf("error.citizen.birth_date_mismatch", typed())).toEqual(["born"]);
    expect(registerFieldsOf("error.phone", typed())).toEqual(["phone"]);
    expect(registerFieldsOf("error.email", typed())).toEqual(["email"]);
  });

  it("name the field a rule on length or characters is about", () => {
    expect(registerFieldsOf("error.citizen.too_long", typed(), ["citizen.field.family_name"])).toEqual(["family"]);
    expect(registerFieldsOf("error.citizen.hidden_character", typed(), ["citizen.field.given_name"])).toEqual(["given"]);
    expect(registerFieldsOf("error.citizen.too_long", typed(), ["citizen.field.address"])).toEqual([]);
  });

  it("mark only the names left empty", () => {
    expect(registerFieldsOf("error.citizen.names_required", typed({ given: "" }))).toEqual(["given"]);
    expect(registerFieldsOf("error.citizen.names_required", typed({ given: "", family: "" }))).toEqual(["given", "family"]);
  });

  it("stay below the form when they are about no field", () => {
    expect(registerFieldsOf("error.session.locked", typed())).toEqual([]);
    expect(registerFieldsOf(null, typed())).toEqual([]);
  });
});
