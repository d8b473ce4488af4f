import { api } from "../api.js";
import { barChart } from "../charts.js";
import { count, h, table, when } from "../dom.js";

/** The runbook's monitoring, as figures and a chart: organisations by tier, events per hour over the last day. */
export async function overview() {
  const stats = await api("usage/stats");
  const hours = stats.eventsPerHour.map(hour => ({ label: `${new Date(hour.hour).toISOString().slice(11, 13)}:00`, value: hour.events }));
  return [
    h("h1", { tabindex: -1 }, "Overview"),
    h("p", { class: "as-of" }, `As of ${when(stats.asOf)}`),
    h("section", { "aria-labelledby": "figures" },
      h("h2", { id: "figures" }, "Figures"),
      h("dl", { class: "figures" },
        figure("Organisations", stats.organisations),
        figure("Events in the last hour", stats.eventsLastHour),
        figure("Events in the last 24 hours", stats.eventsLast24Hours))),
    h("section", { "aria-labelledby": "per-hour" },
      h("h2", { id: "per-hour" }, "Events per hour"),
      barChart("Usage events per hour, last 24 hours (UTC)", hours)),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "by-tier" },
        h("h2", { id: "by-tier" }, "Organisations by tier"),
        table("Organisations on each tier", ["Tier", "Organisations"],
          Object.entries(stats.organisationsByTier).map(([tier, organisations]) => [tier, count(organisations)]))),
      h("section", { "aria-labelledby": "by-feature" },
        h("h2", { id: "by-feature" }, "Events by feature"),
        table("Usage events of each feature", ["Feature", "Last hour", "Last 24 hours"],
          stats.features.map(f => [f.feature, count(f.eventsLastHour), count(f.eventsLast24Hours)])))),
  ];
}

const figure = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {}, count(value)));
