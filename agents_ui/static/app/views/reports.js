// Periodic reports (#/reports, supervisors): a day's, week's, month's or any period's
// report of a hotline or the whole centre — computed on demand, or a stored one the
// schedule or a supervisor made — with its comparisons (the period before, the same
// period last year), charts, per-agent figures and the overdue and late orders. The
// document carries every name in both languages; the page shows the chosen one. Printing
// gives A4 pages without the controls (app.css, "Periodic reports").

import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText, fmtTime, refs, nameOf, session } from "../store.js";
import Chart from "./chart.js";
import { ExportMenu } from "./exports.js";
import { centreDay } from "./knowledge/common.js";

// Measures where less is better (an arrow up is then bad); the rest of the rates and
// shares are better higher; counts of work are neither.
const LOWER_BETTER = new Set(["calls_abandoned", "returned", "escalated", "reopened", "reopen_rate"]);
const HIGHER_BETTER = new Set([
  "answer_rate", "answered_15s_rate", "resolved_on_call_share", "response_rate", "resolution_rate",
  "satisfaction_rate", "on_time_rate", "callback_rate", "score",
]);
// Shown as percentages (the document gives shares of 1).
const SHARES = new Set([...HIGHER_BETTER, "reopen_rate"].filter((m) => m !== "score"));
const BREAKDOWNS = ["channel", "kind", "item", "domain", "district", "unit"];
// The select's value of the whole centre (the API's scope ""; a select takes "" for none).
const CENTRE = "*";
const COLORS = ["#2f6fed", "#18a058", "#f0a020", "#d03050", "#7c4dff", "#0e9aa7"];

function shown(measure, value) {
  if (value === null || value === undefined) return "—";
  if (SHARES.has(measure)) return `${(value * 100).toFixed(1)}%`;
  return String(value);
}

export default {
  components: { Chart, ExportMenu },
  setup() {
    const { t, locale } = useI18n();
    const kind = ref("monthly");
    const day = ref(centreDay(1));
    const range = ref([centreDay(7), centreDay(1)]);
    const scope = ref(session.user?.hotline_codes ? session.user.hotline_codes[0] : CENTRE);
    const report = ref(null); // {id, version, document, generated_by_name?}
    const stored = ref([]);
    const error = ref("");
    const loading = ref(false);

    const scopeQuery = () => (scope.value === CENTRE ? "" : scope.value);
    const periodQuery = () =>
      kind.value === "custom"
        ? { kind: "custom", start: range.value?.[0], end: range.value?.[1], scope: scopeQuery() }
        : { kind: kind.value, day: day.value, scope: scopeQuery() };
    // The controls follow the report shown, so that "save" makes its next version.
    function follow(document) {
      const p = document.period;
      kind.value = p.kind;
      if (p.kind === "custom") range.value = [p.first_day, p.last_day];
      else day.value = p.first_day;
      scope.value = document.scope.code || CENTRE;
    }

    async function run(work) {
      loading.value = true;
      try {
        await work();
        error.value = "";
      } catch (e) {
        error.value = errorText(e);
      } finally {
        loading.value = false;
      }
    }
    const loadStored = () => run(async () => {
      stored.value = (await api.get("/api/v1/reports/periodic", { limit: 60 })).items;
    });
    const compute = () => run(async () => {
      report.value = await api.get("/api/v1/reports/periodic/compute", periodQuery());
    });
    const open = (row) => run(async () => {
      report.value = await api.get(`/api/v1/reports/periodic/${row.id}`);
      follow(report.value.document);
    });
    const regenerate = () => run(async () => {
      report.value = await api.post("/api/v1/reports/periodic", periodQuery());
      stored.value = (await api.get("/api/v1/reports/periodic", { limit: 60 })).items;
    });
    onMounted(async () => {
      await loadStored();
      if (stored.value.length) await open(stored.value[0]);
    });

    const doc = computed(() => report.value?.document || null);
    // The export of the report shown: a stored one by its id, a computed one by its
    // period and scope (not the controls', which may have changed since).
    const exportParams = computed(() => {
      if (!report.value) return null;
      if (report.value.id) return { report_id: report.value.id };
      const { period, scope: shownScope } = report.value.document;
      const days = period.kind === "custom" ? { start: period.first_day, end: period.last_day } : { day: period.first_day };
      return { kind: period.kind, ...days, scope: shownScope.code };
    });
    // The name in the chosen language, of a row carrying both.
    const nm = (row, prefix = "") => {
      locale.value;
      return (locale.value === "en" ? row[prefix + "name_en"] : row[prefix + "name_zh"]) || row.key || "";
    };
    const scopes = computed(() => {
      locale.value;
      const all = (refs.hotlines || []).map((h) => ({ value: h.code, label: nameOf(h) }));
      const mine = session.user?.hotline_codes;
      const allowed = mine ? all.filter((h) => mine.includes(h.value)) : all;
      return mine ? allowed : [{ value: CENTRE, label: t("periodicUi.centre") }, ...allowed];
    });
    const periodText = (p) => {
      if (!p) return "";
      const span = p.first_day === p.last_day ? p.first_day : `${p.first_day} – ${p.last_day}`;
      return `${t("periodicUi.kinds." + p.kind)} ${span}`;
    };
    const arrow = (row, column) => {
      const change = row[column];
      if (change === null || change === undefined || change === 0) return { sign: "", cls: "flat" };
      const up = change > 0;
      const good = HIGHER_BETTER.has(row.measure) ? up : LOWER_BETTER.has(row.measure) ? !up : null;
      return { sign: up ? "▲" : "▼", cls: good === null ? "flat" : good ? "good" : "bad" };
    };
    const changeText = (row, column) => {
      const change = row[column];
      if (change === null || change === undefined) return "—";
      if (SHARES.has(row.measure)) return `${(Math.abs(change) * 100).toFixed(1)} ${t("periodicUi.points")}`;
      return String(Math.abs(change));
    };
    const breakdownLabel = (dimension, row) =>
      ["channel", "kind", "domain"].includes(dimension) ? t(`${dimension}.${row.key}`) : nm(row);

    const dailyOption = computed(() => {
      locale.value;
      const days = doc.value?.daily || [];
      const line = (measure) => ({
        name: t("periodicUi.measures." + measure), type: "line", symbolSize: 5,
        data: days.map((d) => d[measure]),
      });
      return {
        color: COLORS,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: days.map((d) => d.day.slice(5)) },
        yAxis: { type: "value", minInterval: 1 },
        series: ["registered", "calls_offered", "calls_answered", "dispatched"].map(line),
      };
    });
    const barOption = (dimension, top = 10) => {
      locale.value;
      const rows = (doc.value?.orders_by?.[dimension] || []).slice(0, top).reverse();
      return {
        color: COLORS,
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: {
          type: "category", data: rows.map((r) => breakdownLabel(dimension, r)),
          axisLabel: { width: 110, overflow: "truncate" },
        },
        series: [
          { name: t("periodicUi.thisPeriod"), type: "bar", barMaxWidth: 12, data: rows.map((r) => r.registered) },
          { name: t("periodicUi.previous"), type: "bar", barMaxWidth: 12, data: rows.map((r) => r.previous) },
        ],
      };
    };
    const itemOption = computed(() => barOption("item"));
    const channelOption = computed(() => {
      locale.value;
      return {
        color: COLORS,
        tooltip: { trigger: "item" },
        legend: { bottom: 0, type: "scroll" },
        series: [{
          type: "pie", radius: ["35%", "62%"], center: ["50%", "44%"],
          label: { formatter: "{b}: {c}" },
          data: (doc.value?.orders_by?.channel || []).map((r) => ({
            name: breakdownLabel("channel", r), value: r.registered,
          })),
        }],
      };
    });
    const print = () => window.print();

    return {
      t, kind, day, range, scope, scopes, report, doc, exportParams, stored, error, loading, BREAKDOWNS,
      compute, open, regenerate, loadStored, print, nm, shown, arrow, changeText, periodText,
      breakdownLabel, dailyOption, itemOption, channelOption, fmtTime,
    };
  },
  template: `
  <div class="periodic-page">
    <div class="tab-toolbar periodic-tools no-print">
      <el-radio-group v-model="kind" size="small" data-test="periodic-kind">
        <el-radio-button v-for="k in ['daily', 'weekly', 'monthly', 'custom']" :key="k" :value="k">{{ t('periodicUi.kinds.' + k) }}</el-radio-button>
      </el-radio-group>
      <el-date-picker v-if="kind === 'custom'" v-model="range" type="daterange" value-format="YYYY-MM-DD" unlink-panels
                      :clearable="false" :start-placeholder="t('periodicUi.from')" :end-placeholder="t('periodicUi.to')" data-test="periodic-range" />
      <el-date-picker v-else v-model="day" :type="kind === 'monthly' ? 'month' : 'date'" value-format="YYYY-MM-DD"
                      :clearable="false" :placeholder="t('periodicUi.dayIn')" data-test="periodic-day" />
      <el-select v-model="scope" style="width: 170px" data-test="periodic-scope">
        <el-option v-for="s in scopes" :key="s.value" :value="s.value" :label="s.label" />
      </el-select>
      <el-button type="primary" :loading="loading" @click="compute" data-test="periodic-compute">{{ t('periodicUi.compute') }}</el-button>
      <el-button :loading="loading" @click="regenerate" data-test="periodic-save">{{ t('periodicUi.save') }}</el-button>
      <el-button :disabled="!doc" @click="print" data-test="periodic-print">{{ t('periodicUi.print') }}</el-button>
      <ExportMenu v-if="doc" kind="periodic_report" :params="exportParams" />
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" class="no-print" />
    <div class="periodic-body">
      <el-card shadow="never" class="panel periodic-stored no-print" data-test="periodic-stored">
        <template #header><div class="panel-head"><span>{{ t('periodicUi.stored') }}</span></div></template>
        <el-table :data="stored" size="small" :empty-text="t('periodicUi.noStored')" highlight-current-row
                  @row-click="open" max-height="640">
          <el-table-column :label="t('periodicUi.period')" min-width="150"><template #default="{ row }">
            <a class="link" :data-report="row.id">{{ periodText({ kind: row.period_kind, first_day: row.first_day, last_day: row.last_day }) }}</a></template></el-table-column>
          <el-table-column :label="t('periodicUi.scope')" width="90"><template #default="{ row }">
            {{ row.scope || t('periodicUi.centre') }}</template></el-table-column>
          <el-table-column label="v" width="40" align="right" prop="version" />
        </el-table>
      </el-card>
      <div v-if="doc" class="periodic-report" data-test="periodic-report">
        <div class="periodic-title">
          <h2>{{ nm(doc.scope) }} · {{ periodText(doc.period) }}</h2>
          <div class="muted small">
            <span data-test="periodic-as-of">{{ t('periodicUi.asOf') }}: {{ doc.data_as_of ? fmtTime(doc.data_as_of, true) : t('periodicUi.notRolled') }}</span>
            <span v-if="doc.days_not_rolled" class="bad"> · {{ t('periodicUi.daysNotRolled', { n: doc.days_not_rolled }) }}</span>
            · {{ t('periodicUi.generated') }}: {{ fmtTime(doc.generated_at, true) }}
            <span v-if="report.version"> · {{ t('periodicUi.version', { v: report.version }) }}{{ report.generated_by_name ? ' · ' + report.generated_by_name : ' · ' + t('periodicUi.bySchedule') }}</span>
            <span v-else> · {{ t('periodicUi.notStored') }}</span>
          </div>
          <div class="muted small">{{ t('periodicUi.comparedWith') }}: {{ periodText(doc.previous_period) }} · {{ periodText(doc.last_year_period) }}</div>
        </div>
        <el-card shadow="never" class="panel">
          <template #header><div class="panel-head"><span>{{ t('periodicUi.summary') }}</span></div></template>
          <table class="periodic-summary" data-test="periodic-summary">
            <thead><tr><th></th><th>{{ t('periodicUi.thisPeriod') }}</th><th>{{ t('periodicUi.previous') }}</th>
              <th>{{ t('periodicUi.change') }}</th><th>{{ t('periodicUi.lastYear') }}</th><th>{{ t('periodicUi.change') }}</th></tr></thead>
            <tbody>
              <tr v-for="row in doc.summary" :key="row.measure" :data-measure="row.measure">
                <th>{{ t('periodicUi.measures.' + row.measure) }}</th>
                <td class="num strong">{{ shown(row.measure, row.value) }}</td>
                <td class="num">{{ shown(row.measure, row.previous) }}</td>
                <td class="num" :class="arrow(row, 'change_previous').cls">{{ arrow(row, 'change_previous').sign }} {{ changeText(row, 'change_previous') }}</td>
                <td class="num">{{ shown(row.measure, row.last_year) }}</td>
                <td class="num" :class="arrow(row, 'change_last_year').cls">{{ arrow(row, 'change_last_year').sign }} {{ changeText(row, 'change_last_year') }}</td>
              </tr>
            </tbody>
          </table>
        </el-card>
        <el-card shadow="never" class="panel periodic-chart">
          <template #header><div class="panel-head"><span>{{ t('periodicUi.daily') }}</span></div></template>
          <Chart :option="dailyOption" :height="260" />
        </el-card>
        <div class="two-col periodic-charts">
          <el-card shadow="never" class="panel periodic-chart">
            <template #header><div class="panel-head"><span>{{ t('periodicUi.byItem') }}</span></div></template>
            <Chart :option="itemOption" :height="300" />
          </el-card>
          <el-card shadow="never" class="panel periodic-chart">
            <template #header><div class="panel-head"><span>{{ t('periodicUi.byChannel') }}</span></div></template>
            <Chart :option="channelOption" :height="300" />
          </el-card>
        </div>
        <div class="periodic-breakdowns">
          <el-card v-for="dimension in BREAKDOWNS" :key="dimension" shadow="never" class="panel" :data-breakdown="dimension">
            <template #header><div class="panel-head"><span>{{ t('periodicUi.by.' + dimension) }}</span></div></template>
            <table class="periodic-table">
              <thead><tr><th></th><th>{{ t('periodicUi.measures.registered') }}</th><th>{{ t('periodicUi.measures.resolved_on_call') }}</th>
                <th>{{ t('periodicUi.previous') }}</th><th>{{ t('periodicUi.lastYear') }}</th></tr></thead>
              <tbody>
                <tr v-for="row in doc.orders_by[dimension].slice(0, 15)" :key="row.key">
                  <th>{{ breakdownLabel(dimension, row) }}</th><td class="num">{{ row.registered }}</td>
                  <td class="num">{{ row.resolved_on_call }}</td><td class="num">{{ row.previous }}</td><td class="num">{{ row.last_year }}</td>
                </tr>
                <tr v-if="!doc.orders_by[dimension].length"><td colspan="5" class="muted">{{ t('periodicUi.none') }}</td></tr>
              </tbody>
            </table>
          </el-card>
        </div>
        <el-card shadow="never" class="panel" data-test="periodic-agents">
          <template #header><div class="panel-head"><span>{{ t('periodicUi.agents') }}</span></div></template>
          <table class="periodic-table">
            <thead><tr><th>{{ t('periodicUi.agent') }}</th><th>{{ t('periodicUi.callsHandled') }}</th><th>{{ t('periodicUi.avgHandling') }}</th>
              <th>{{ t('periodicUi.avgAfterCall') }}</th><th>{{ t('periodicUi.answered15') }}</th>
              <th>{{ t('periodicUi.measures.registered') }}</th><th>{{ t('periodicUi.measures.resolved_on_call') }}</th></tr></thead>
            <tbody>
              <tr v-for="row in doc.agents" :key="row.key" :data-agent="row.key">
                <th>{{ nm(row) }}</th><td class="num">{{ row.calls_handled }}</td>
                <td class="num">{{ row.avg_handling_seconds ?? '—' }}</td><td class="num">{{ row.avg_after_call_seconds ?? '—' }}</td>
                <td class="num">{{ row.calls_answered_15s }}</td><td class="num">{{ row.registered }}</td><td class="num">{{ row.resolved_on_call }}</td>
              </tr>
              <tr v-if="!doc.agents.length"><td colspan="7" class="muted">{{ t('periodicUi.none') }}</td></tr>
            </tbody>
          </table>
        </el-card>
        <el-card v-for="list in ['overdue', 'completed_late']" :key="list" shadow="never" class="panel" :data-list="list">
          <template #header><div class="panel-head"><span>{{ t('periodicUi.lists.' + list) }}</span>
            <span class="muted small">{{ t('periodicUi.listCount', { n: doc[list].count, shown: doc[list].rows.length }) }}</span></div></template>
          <table class="periodic-table">
            <thead><tr><th>{{ t('periodicUi.number') }}</th><th>{{ t('periodicUi.item') }}</th><th>{{ t('periodicUi.unit') }}</th>
              <th>{{ t('periodicUi.due') }}</th><th>{{ t('periodicUi.completed') }}</th></tr></thead>
            <tbody>
              <tr v-for="row in doc[list].rows" :key="row.order_id">
                <th><a class="link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></th>
                <td>{{ nm(row, 'item_') }}</td>
                <td>{{ nm(row, 'unit_') || '—' }}</td>
                <td>{{ fmtTime(row.due_at, true) }}</td><td>{{ row.completed_at ? fmtTime(row.completed_at, true) : '—' }}</td>
              </tr>
              <tr v-if="!doc[list].rows.length"><td colspan="5" class="muted">{{ t('periodicUi.none') }}</td></tr>
            </tbody>
          </table>
        </el-card>
      </div>
      <el-empty v-else :description="t('periodicUi.choose')" class="no-print" />
    </div>
  </div>`,
};
