// A request's required documents, as a checklist the clerk ticks when the citizen hands one in:
// at intake after the request was taken, and on the requests screen, for as long as the core
// lets the documents change (a draft, or a request returned for correction). Each tick is
// written at once; the request as the core has it after comes back to the screen.

import { api, type RequestDetail, type RequestStatus } from "./api";
import { h } from "./dom";
import { t, text } from "./i18n";
import { explain } from "./messages";

/** The statuses in which the core takes a document marked received or missing. */
const OPEN: RequestStatus[] = ["draft", "returned_for_correction"];

/** Whether the request's documents can still be ticked. */
export function documentsOpen(request: RequestDetail): boolean {
  return OPEN.includes(request.status);
}

/**
 * The checklist of `request` (null when it needs no document), with the id `id`. A tick calls
 * `marked` with the request as it stands after, and a box ticked from the keyboard keeps the
 * focus once `marked` has drawn the list again; a refusal shows under the list and leaves the
 * box as it was.
 */
export function documentChecklist(
  id: string,
  request: RequestDetail,
  run: (label: string, action: () => Promise<void>) => Promise<void>,
  marked: (request: RequestDetail) => void,
): HTMLElement | null {
  if (request.documents.length === 0) return null;
  const open = documentsOpen(request);
  const error = h("p", { class: "error", role: "alert", id: `${id}-error` });
  const missing = request.documents.filter((d) => !d.received).length;
  return h(
    "fieldset",
    { class: "checklist", id },
    h("legend", {}, t("documents.title")),
    open && missing > 0 ? h("p", { class: "notice", id: `${id}-missing` }, t("documents.missing", { count: missing })) : null,
    h(
      "ul",
      {},
      request.documents.map((d) => {
        const box = h("input", {
          type: "checkbox",
          id: `${id}-${d.code}`,
          "data-document": d.code,
          checked: d.received,
          disabled: !open,
        });
        box.addEventListener("change", () => {
          const received = box.checked;
          const focused = document.activeElement === box;
          void run("mark_document", async () => {
            try {
              marked(await api.markDocument(request.receipt, d.code, received));
              // The list drawn again, the clerk ticks the next box from this one.
              if (focused) document.getElementById(box.id)?.focus();
            } catch (err) {
              box.checked = !received;
              error.textContent = explain(err);
            }
          });
        });
        return h(
          "li",
          { class: d.received ? "received" : "missing" },
          box,
          h("label", { for: box.id }, `${text(d.name)} (${t(`document.${d.kind}`)})`),
        );
      }),
    ),
    error,
  );
}
