// The callbacks' figures per unit (response, resolution, satisfaction and on-time rates
// and the 三率 score) over the last days, each unit or groups with their branches: a
// table with bars, and the trend of one chosen figure.

import { computed, onMounted, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../../api.js";
import { unitName } from "../../store.js";
import Chart from "../chart.js";

const COLORS = ["#1d6fd8", "#16a34a", "#f59e0b", "#9333ea", "#0891b2", "#dc2626", "#64748b"];
// The figures the table, the bars and the trend show: [field in the answer, text key].
const RATES = [
  ["response_rate", "board.responseRate"],
  ["resolution_rate", "board.resolutionRate"],
  ["satisfaction_rate", "board.satisfactionRate"],
  ["on_time_rate", "board.onTimeRate"],
];
const TREND_METRICS = [...RATES, ["score", "board.score"]];

// Every day of the period ("YYYY-MM-DD"), so that the axis shows the whole period.
function periodDays(start, end) {
  const days = [];
  if (!start || !end) return days;
  for (let d = new Date(`${start}T00:00:00Z`); d <= new Date(`${end}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

function pct(rate) {
  return rate === null || rate === undefined ? null : Math.round(rate * 1000) / 10;
}

export default {
  components: { Chart },
  setup() {
    const { t, locale } = useI18n();
    const rates = ref(null);
    const days = ref(14);
    const rollUp = ref("unit"); // each unit, or groups with their branches added
    const trendMetric = ref("response_rate");

    // Asked when the board opens and when the period or the roll-up changes; unlike the
    // counters and the lists, not on every live event.
    async function loadRates() {
      rates.value = await api.get("/api/v1/board/units", { days: days.value, by: rollUp.value });
    }
    onMounted(loadRates);

    const unitRows = computed(() => {
      locale.value; // names in the chosen language
      return (rates.value?.units || []).map((u) => ({
        ...u,
        name: unitName(u.unit_id),
        shown: Object.fromEntries(RATES.map(([key]) => [key, pct(u[key])])),
      }));
    });

    // Charts only of measured figures: an axis of dashes would say nothing.
    const hasRates = computed(() => unitRows.value.some((u) => RATES.some(([key]) => u.shown[key] !== null)));
    const hasTrend = computed(() => (rates.value?.trend || []).some((p) => p[trendMetric.value] !== null));
    const percent = (v) => (v === null || v === undefined ? "—" : `${v}%`);

    const barOption = computed(() => {
      const rows = unitRows.value;
      locale.value; // re-render the labels on a language switch
      return {
        color: COLORS.slice(0, RATES.length),
        tooltip: { trigger: "axis", valueFormatter: percent },
        legend: { top: 0, data: RATES.map(([, label]) => t(label)) },
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        yAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { width: 120, overflow: "truncate" } },
        series: RATES.map(([key, label]) => ({
          name: t(label), type: "bar", data: rows.map((r) => r.shown[key]), barMaxWidth: 10,
        })),
      };
    });

    // One line per unit of the chosen figure; the score is out of 100, the rates are shares.
    const trendOption = computed(() => {
      locale.value;
      const metric = trendMetric.value;
      const value = (p) => (metric === "score" ? p?.score ?? null : pct(p?.[metric] ?? null));
      const trend = rates.value?.trend || [];
      const daysList = periodDays(rates.value?.start, rates.value?.end);
      const unitIds = [...new Set(trend.map((p) => p.unit_id))];
      const series = unitIds.map((id, i) => {
        const byDay = Object.fromEntries(trend.filter((p) => p.unit_id === id).map((p) => [p.day, p]));
        return {
          name: unitName(id),
          type: "line",
          smooth: true,
          connectNulls: true,
          symbolSize: 6,
          color: COLORS[i % COLORS.length],
          data: daysList.map((d) => value(byDay[d])),
        };
      });
      const suffix = metric === "score" ? "" : "%";
      return {
        tooltip: { trigger: "axis", valueFormatter: (v) => (v === null || v === undefined ? "—" : `${v}${suffix}`) },
        legend: { top: 0, type: "scroll" },
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: daysList.map((d) => d.slice(5)) },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: `{value}${suffix}` } },
        series,
      };
    });

    return {
      t, days, rollUp, trendMetric, unitRows, hasRates, hasTrend, barOption, trendOption,
      TREND_METRICS, loadRates,
    };
  },
  template: `
  <div class="rates-grid">
    <el-card shadow="never" class="panel">
      <template #header>
        <div class="panel-head"><span>{{ t('board.rates') }}</span>
          <span class="panel-tools">
          <el-radio-group v-model="rollUp" size="small" @change="loadRates" data-test="roll-up">
            <el-radio-button value="unit">{{ t('board.byUnit') }}</el-radio-button>
            <el-radio-button value="group">{{ t('board.byGroup') }}</el-radio-button>
          </el-radio-group>
          <el-radio-group v-model="days" size="small" @change="loadRates">
            <el-radio-button :value="7">{{ t('board.period', { d: 7 }) }}</el-radio-button>
            <el-radio-button :value="14">{{ t('board.period', { d: 14 }) }}</el-radio-button>
            <el-radio-button :value="30">{{ t('board.period', { d: 30 }) }}</el-radio-button>
          </el-radio-group></span></div>
      </template>
      <el-table :data="unitRows" size="small" :empty-text="t('board.noRates')" data-test="unit-rates">
        <el-table-column :label="t('board.unitName')" prop="name" min-width="130" />
        <el-table-column :label="t('board.responseRate')" width="96" align="right">
          <template #default="{ row }"><span class="rate">{{ row.shown.response_rate === null ? '—' : row.shown.response_rate + '%' }}</span>
            <div class="muted tiny">{{ row.signed_on_time }}/{{ row.dispatched }}</div></template>
        </el-table-column>
        <el-table-column :label="t('board.resolutionRate')" width="100" align="right">
          <template #default="{ row }"><span class="rate">{{ row.shown.resolution_rate === null ? '—' : row.shown.resolution_rate + '%' }}</span>
            <div class="muted tiny">{{ row.solved }}/{{ row.answered }}</div></template>
        </el-table-column>
        <el-table-column :label="t('board.satisfactionRate')" width="112" align="right">
          <template #default="{ row }"><span class="rate">{{ row.shown.satisfaction_rate === null ? '—' : row.shown.satisfaction_rate + '%' }}</span>
            <div class="muted tiny">{{ row.good }}/{{ row.rated }}</div></template>
        </el-table-column>
        <el-table-column :label="t('board.onTimeRate')" width="96" align="right">
          <template #default="{ row }"><span class="rate">{{ row.shown.on_time_rate === null ? '—' : row.shown.on_time_rate + '%' }}</span>
            <div class="muted tiny">{{ row.completed_on_time }}/{{ row.completed }}</div></template>
        </el-table-column>
        <el-table-column :label="t('board.score')" width="84" align="right">
          <template #default="{ row }"><span class="rate score" data-test="unit-score">{{ row.score === null ? '—' : row.score.toFixed(1) }}</span></template>
        </el-table-column>
      </el-table>
      <p class="muted tiny rates-note">{{ t('board.ratesNote') }}</p>
      <Chart v-if="hasRates" :option="barOption" :height="Math.max(180, unitRows.length * 64 + 60)" />
    </el-card>
    <el-card shadow="never" class="panel">
      <template #header><div class="panel-head"><span>{{ t('board.trend') }}</span>
        <el-radio-group v-model="trendMetric" size="small" data-test="trend-metric">
          <el-radio-button v-for="[key, label] in TREND_METRICS" :key="key" :value="key">{{ t(label) }}</el-radio-button>
        </el-radio-group></div></template>
      <Chart v-if="hasTrend" :option="trendOption" :height="340" />
      <el-empty v-else :description="t('board.noTrend')" :image-size="80" />
    </el-card>
  </div>`,
};
