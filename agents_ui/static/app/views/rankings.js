// The units' rankings (#/rankings, supervisors): a period (day, week, month or custom,
// local days), each unit or groups with their branches, every figure's rank with its
// change since the previous period, a bar chart of the figure ranked by, and a notice
// (通报) drafted from the worst units (docs/reports.md, "Rankings and notices").

import { computed, onMounted, reactive, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { errorText, go, unitName } from "../store.js";
import Chart from "./chart.js";
import { ExportMenu } from "./exports.js";
import { centreDay } from "./knowledge/common.js";

// The figures, as reports/rankings/service.py names them; the reopen rate is better low.
export const METRICS = [
  "score", "response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "callback_rate", "reopen_rate",
];
const PERIODS = ["day", "week", "month", "custom"];

// A figure as shown: the score out of 100, a rate as a percentage.
export function figureText(metric, value) {
  if (value === null || value === undefined) return "—";
  return metric === "score" ? value.toFixed(1) : `${Math.round(value * 1000) / 10}%`;
}

export default {
  components: { Chart, ExportMenu },
  // The hash's query may name the ranking (#/rankings?period=week&date=2024-03-13): a
  // link to one period's ranking.
  props: { params: Object },
  setup(props) {
    const { t, locale } = useI18n();
    const asked = props.params || {};
    const day = asked.date || centreDay();
    const form = reactive({
      period: PERIODS.includes(asked.period) ? asked.period : "week",
      date: day,
      month: day.slice(0, 7),
      range: asked.start && asked.end ? [asked.start, asked.end] : [centreDay(6), centreDay()],
      by: asked.by === "group" ? "group" : "unit",
    });
    const rankBy = ref(METRICS.includes(asked.rank_by) ? asked.rank_by : "score");
    const ranking = ref(null);
    const error = ref("");
    const loading = ref(false);
    const draft = reactive({ open: false, worst: 3, threshold: null, busy: false, error: "" });

    function query() {
      const q = { period: form.period, by: form.by, rank_by: rankBy.value };
      if (form.period === "custom") [q.start, q.end] = form.range || [];
      else q.date = form.period === "month" ? `${form.month}-01` : form.date;
      return q;
    }
    async function load() {
      loading.value = true;
      try {
        ranking.value = await api.get("/api/v1/rankings", query());
        error.value = "";
      } catch (e) {
        error.value = errorText(e);
      } finally {
        loading.value = false;
      }
    }
    onMounted(load);
    // The export of the ranking shown, ordered by the figure chosen.
    const exportParams = computed(() => query());

    // Every rank is in the answer: sorting by another figure needs no new request.
    const rows = computed(() => {
      locale.value; // names in the chosen language
      const metric = rankBy.value;
      return [...(ranking.value?.items || [])]
        .map((u) => ({ ...u, name: unitName(u.unit_id) || u.name }))
        .sort((a, b) => (a.rank[metric] ?? Infinity) - (b.rank[metric] ?? Infinity) || a.name.localeCompare(b.name));
    });
    const ranked = computed(() => rows.value.filter((r) => r.rank[rankBy.value] !== null));
    function sortChange({ prop }) {
      if (prop) rankBy.value = prop;
    }
    const arrow = (row, metric) => {
      const change = row.change[metric];
      if (row.rank[metric] === null) return { cls: "rank-none", text: "" };
      if (change === null) return { cls: "rank-new", text: t("rankUi.new") };
      if (change > 0) return { cls: "rank-up", text: `▲${change}` };
      if (change < 0) return { cls: "rank-down", text: `▼${-change}` };
      return { cls: "rank-same", text: "—" };
    };

    const barOption = computed(() => {
      locale.value;
      const metric = rankBy.value;
      const list = [...ranked.value].reverse(); // best at the top of the axis
      const value = (r) => (metric === "score" ? r[metric] : Math.round(r[metric] * 1000) / 10);
      const suffix = metric === "score" ? "" : "%";
      return {
        animation: false, // a report's chart: read and printed as it stands
        tooltip: { trigger: "axis", valueFormatter: (v) => `${v}${suffix}` },
        grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", max: 100, axisLabel: { formatter: `{value}${suffix}` } },
        yAxis: { type: "category", data: list.map((r) => `${r.rank[metric]}. ${r.name}`), axisLabel: { width: 160, overflow: "truncate" } },
        series: [{
          name: t(`rankUi.metrics.${metric}`), type: "bar", barMaxWidth: 16,
          data: list.map((r) => value(r)),
          label: { show: true, position: "right", formatter: (p) => `${p.value}${suffix}` },
          itemStyle: { color: metric === "reopen_rate" ? "#dc2626" : "#1d6fd8" },
        }],
      };
    });

    async function makeDraft() {
      draft.busy = true;
      draft.error = "";
      try {
        const body = { ...query() };
        if (draft.worst) body.worst = draft.worst;
        if (draft.threshold !== null && draft.threshold !== "") body.threshold = Number(draft.threshold);
        const notice = await api.post("/api/v1/notices", body);
        draft.open = false;
        go(`/notices/${notice.id}`);
      } catch (e) {
        draft.error = errorText(e);
      } finally {
        draft.busy = false;
      }
    }
    return {
      t, form, rankBy, ranking, rows, ranked, error, loading, draft, load, sortChange, arrow, barOption,
      makeDraft, figureText, METRICS, PERIODS, exportParams,
    };
  },
  template: `
  <div class="rank-page">
    <div class="page-head">
      <h2>{{ t('rankUi.title') }}</h2>
      <a class="link" href="#/notices" data-test="notices-link">{{ t('rankUi.notices') }} →</a>
    </div>
    <div class="tab-toolbar rank-toolbar">
      <el-radio-group v-model="form.period" data-test="rank-period" @change="load">
        <el-radio-button v-for="p in PERIODS" :key="p" :value="p">{{ t('rankUi.periods.' + p) }}</el-radio-button>
      </el-radio-group>
      <el-date-picker v-if="form.period === 'day' || form.period === 'week'" v-model="form.date" type="date"
                      value-format="YYYY-MM-DD" :clearable="false" data-test="rank-date" @change="load" />
      <el-date-picker v-else-if="form.period === 'month'" v-model="form.month" type="month"
                      value-format="YYYY-MM" :clearable="false" data-test="rank-month" @change="load" />
      <el-date-picker v-else v-model="form.range" type="daterange" value-format="YYYY-MM-DD" unlink-panels
                      :clearable="false" :start-placeholder="t('rankUi.from')" :end-placeholder="t('rankUi.to')"
                      data-test="rank-range" @change="load" />
      <el-radio-group v-model="form.by" @change="load">
        <el-radio-button value="unit">{{ t('board.byUnit') }}</el-radio-button>
        <el-radio-button value="group">{{ t('board.byGroup') }}</el-radio-button>
      </el-radio-group>
      <el-button :loading="loading" @click="load">{{ t('app.refresh') }}</el-button>
      <el-button type="primary" data-test="draft-notice" :disabled="!ranked.length" @click="draft.open = true">{{ t('rankUi.draft') }}</el-button>
      <ExportMenu v-if="ranking" kind="ranking" :params="exportParams" />
    </div>
    <el-alert v-if="error" :title="error" type="error" show-icon :closable="false" />
    <p v-if="ranking" class="muted small" data-test="rank-period-text">
      {{ t('rankUi.periodText', { start: ranking.start, end: ranking.end, pstart: ranking.previous.start, pend: ranking.previous.end }) }}
    </p>
    <el-card shadow="never" class="panel table-panel">
      <el-table :data="rows" size="small" :empty-text="t('rankUi.empty')" data-test="rank-table"
                :default-sort="{ prop: 'score', order: 'ascending' }" @sort-change="sortChange">
        <el-table-column :label="t('rankUi.rank')" width="96" align="center">
          <template #default="{ row }">
            <span class="rank-n" data-test="rank-n">{{ row.rank[rankBy] ?? t('rankUi.unranked') }}</span>
            <span class="rank-change" :class="arrow(row, rankBy).cls" data-test="rank-change">{{ arrow(row, rankBy).text }}</span>
          </template>
        </el-table-column>
        <el-table-column :label="t('board.unitName')" min-width="170">
          <template #default="{ row }"><span data-test="rank-unit">{{ row.name }}</span></template>
        </el-table-column>
        <el-table-column v-for="m in METRICS" :key="m" :prop="m" sortable="custom" :sort-orders="['ascending']"
                         :label="t('rankUi.metrics.' + m)" :min-width="m === 'score' ? 110 : 100" align="right">
          <template #default="{ row }">
            <span class="rate" :class="{ 'rank-sorted': m === rankBy }">{{ figureText(m, row[m]) }}</span>
            <div class="muted tiny">{{ row.rank[m] === null ? '' : '#' + row.rank[m] }}</div>
          </template>
        </el-table-column>
      </el-table>
      <p class="muted tiny rates-note">{{ t('rankUi.note') }}</p>
    </el-card>
    <el-card v-if="ranked.length" shadow="never" class="panel">
      <template #header><span>{{ t('rankUi.chart', { metric: t('rankUi.metrics.' + rankBy) }) }}</span></template>
      <Chart :option="barOption" :height="Math.max(160, ranked.length * 34 + 40)" />
    </el-card>

    <el-dialog v-model="draft.open" :title="t('rankUi.draftTitle')" width="440px">
      <p class="muted small">{{ t('rankUi.draftHint', { metric: t('rankUi.metrics.' + rankBy) }) }}</p>
      <el-form label-position="top">
        <el-form-item :label="t('rankUi.worst')">
          <el-input-number v-model="draft.worst" :min="0" :max="50" data-test="draft-worst" />
        </el-form-item>
        <el-form-item :label="t(rankBy === 'score' ? 'rankUi.thresholdScore' : 'rankUi.thresholdRate')">
          <el-input v-model="draft.threshold" clearable data-test="draft-threshold" />
        </el-form-item>
      </el-form>
      <el-alert v-if="draft.error" :title="draft.error" type="error" show-icon :closable="false" />
      <template #footer>
        <el-button @click="draft.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="draft.busy" data-test="draft-make" @click="makeDraft">{{ t('rankUi.makeDraft') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
