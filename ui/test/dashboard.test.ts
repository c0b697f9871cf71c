import { describe, expect, it, vi } from "vitest";
import type { Dashboard } from "../src/api";
import { dayForInput, formatDate, t } from "../src/i18n";
import { screenCtx } from "./fixtures";

/** The figures of `day`, none of them drawn by anything this test reads. */
function figures(day: string): Dashboard {
  return {
    day,
    made_at: `${day}T09:00:00Z`,
    currency: "EUR",
    waiting_target_min: 15,
    waiting_now: 0,
    longest_wait_now_s: null,
    waiting_by_hour: [],
    requests_by_status: [],
    collected_by_method: [],
    collected_minor: 0,
    net_collected_minor: 0,
    refunded_minor: 0,
    overdue_count: 0,
    overdue: [],
    feedback: { count: 0, average: null, distribution: [0, 0, 0, 0, 0] },
    sync: { clean: true, statement: "" },
  } as unknown as Dashboard;
}

const { api } = vi.hoisted(() => ({ api: { dashboard: vi.fn(), setRules: vi.fn() } }));
vi.mock("../src/api", () => ({ api, onExportProgress: vi.fn() }));
const { dashboardScreen } = await import("../src/screens/dashboard");

describe("the dashboard left open past midnight", () => {
  it("follows the new day: its title and the export's days, but not a day the supervisor typed", async () => {
    vi.useFakeTimers();
    const ctx = screenCtx();
    ctx.state = { ...ctx.state, today: "2026-03-01" };
    api.dashboard.mockResolvedValue(figures("2026-03-01"));
    const screen = dashboardScreen(ctx);
    document.body.replaceChildren(screen.el);
    const from = document.querySelector<HTMLInputElement>("#export-from")!;
    const to = document.querySelector<HTMLInputElement>("#export-to")!;
    to.value = "28/02/2026";

    api.dashboard.mockResolvedValue(figures("2026-03-02"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(document.querySelector("#dashboard-title")!.textContent).toBe(t("dashboard.title", { day: formatDate("2026-03-02") }));
    expect(from.value).toBe(dayForInput("2026-03-02"));
    expect(to.value).toBe("28/02/2026");
    screen.stop();
    vi.useRealTimers();
  });
});
