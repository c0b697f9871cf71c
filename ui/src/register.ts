// Which field of the register form a refusal of the core is about, so that the message sits
// beside that field (tied to it for screen readers) rather than below the form.

export type RegisterField = "id" | "given" | "family" | "born" | "phone" | "email";

/** The fields the refusal `key` names, given what the clerk typed (`typed`, trimmed): both
 * names are required, so only the empty ones are marked. Empty when the refusal is about no
 * field in particular. */
export function registerFieldsOf(
  key: string | null,
  typed: Record<RegisterField, string>,
  field: unknown = null,
): RegisterField[] {
  if (key === null) return [];
  // A rule on a name's length or characters names its field as a term.
  if (key === "error.citizen.too_long" || key === "error.citizen.hidden_character") {
    const term = Array.isArray(field) ? field[0] : field;
    if (term === "citizen.field.given_name") return ["given"];
    if (term === "citizen.field.family_name") return ["family"];
    return [];
  }
  if (key.startsWith("national_id.") || key === "error.duplicate.citizen") return ["id"];
  switch (key) {
    case "error.birth_date":
    case "error.citizen.born_in_the_future":
    case "error.citizen.birth_date_mismatch":
      return ["born"];
    case "error.phone":
      return ["phone"];
    case "error.email":
      return ["email"];
    case "error.citizen.names_required": {
      const empty = (["given", "family"] as const).filter((f) => typed[f] === "");
      return empty.length ? [...empty] : ["given", "family"];
    }
    default:
      return [];
  }
}
