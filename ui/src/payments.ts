// A payment as the counter's screens list it: when, how much, how and its receipt number.

import type { PaymentLine } from "./api";
import { h } from "./dom";
import { formatDateTime, formatMoney, t } from "./i18n";

/** The time of payment `p` and the sentence that says it, for an item of a list. */
export function paymentLine(p: PaymentLine): (Node | string)[] {
  return [
    h("time", { datetime: p.at }, formatDateTime(p.at)),
    " ",
    t("requests.payment.line", {
      amount: formatMoney(p.amount.minor, p.amount.currency),
      method: t(`payment.${p.method}`),
      receipt: p.receipt,
    }),
  ];
}
