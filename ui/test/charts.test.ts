import { describe, expect, it } from "vitest";
import { barChart, columnChart } from "../src/charts";

describe("the dashboard's charts", () => {
  it("say their values to a screen reader, not only their title", () => {
    const chart = columnChart(
      "Waiting time by hour",
      [
        { label: "9h", value: 4, shown: "4 min" },
        { label: "10h", value: 18, shown: "18 min", alert: true },
      ],
      { value: 15, label: "target 15 min" },
    );
    expect(chart.querySelector("title")!.textContent).toBe("Waiting time by hour");
    expect(chart.querySelector("desc")!.textContent).toBe("9h: 4 min; 10h: 18 min. target 15 min");
  });

  it("say a drawn label in words", () => {
    const chart = barChart("Ratings", [{ label: "★★", spoken: "2 stars", value: 3, shown: "3" }]);
    expect(chart.querySelector("desc")!.textContent).toBe("2 stars: 3");
  });
});
