// The supervisors' SLA board: live counters, the callbacks' figures per unit (response,
// resolution, satisfaction, on-time rates and the 三率 score) with trends, and the work of
// the centre — returns to review, extension requests, overdue orders, coordination (lead
// and assisting units), callback campaigns, rating appeals, ladder notices, agents'
// status, a live feed. Every order number drills down to the order page.

import { computed, onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { ElMessage } from "element-plus";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { onOrderEvent } from "../live.js";
import { actorLabel, errorText, eventLabel, fmtTime, nameOf, refs, unitName } from "../store.js";
import { AppealsPanel, CampaignsPanel } from "./callbacks_board.js";
import Chart from "./chart.js";
import { useLiveReload } from "./common.js";

const COUNTERS = [
  ["registered_today", "primary", null],
  ["open", "primary", "overdue"],
  ["due_soon", "warning", "overdue"],
  ["overdue", "danger", "overdue"],
  ["in_coordination", "danger", "coordination"],
  ["returns_pending", "warning", "returns"],
  ["time_requests_pending", "warning", "timeRequests"],
  ["callbacks_due", "success", null],
];
const COLORS = ["#1d6fd8", "#16a34a", "#f59e0b", "#9333ea", "#0891b2", "#dc2626", "#64748b"];
// The figures the table, the bars and the trend show: [field in the answer, text key].
const RATES = [
  ["response_rate", "board.responseRate"],
  ["resolution_rate", "board.resolutionRate"],
  ["satisfaction_rate", "board.satisfactionRate"],
  ["on_time_rate", "board.onTimeRate"],
];
const TREND_METRICS = [...RATES, ["score", "board.score"]];
const FEED_SIZE = 60;

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
  components: { AppealsPanel, Chart, CampaignsPanel },
  setup() {
    const { t, locale } = useI18n();
    const board = ref(null);
    const rates = ref(null);
    const days = ref(14);
    const rollUp = ref("unit"); // each unit, or groups with their branches added
    const trendMetric = ref("response_rate");
    const appealCount = ref(0);
    const tab = ref("returns");
    const lists = reactive({
      returns: [],
      timeRequests: [],
      overdue: [],
      coordination: [],
      notices: [],
      agents: [],
    });
    const feed = ref([]);
    const review = reactive({ open: false, row: null, decision: "uphold", note: "", saving: false });
    const coord = reactive({
      open: false, order: null, candidates: [], lead: null, assisting: [], due_at: null, note: "", saving: false,
    });

    async function loadBoard() {
      board.value = await api.get("/api/v1/board");
    }
    async function loadRates() {
      rates.value = await api.get("/api/v1/board/units", { days: days.value, by: rollUp.value });
    }
    async function loadLists() {
      const [returns, timeRequests, overdue, coordination, notices, agents] = await Promise.all([
        api.get("/api/v1/returns"),
        api.get("/api/v1/time-requests"),
        api.get("/api/v1/orders", { overdue: true, sort: "due", limit: 50 }),
        api.get("/api/v1/orders", { status: "escalated", limit: 50 }),
        api.get("/api/v1/supervision/notices", { limit: 50 }),
        api.get("/api/v1/agents"),
      ]);
      Object.assign(lists, {
        returns: returns.items,
        timeRequests: timeRequests.items,
        overdue: overdue.items,
        coordination: coordination.items,
        notices: notices.items,
        agents: agents.items,
      });
    }
    const loadAll = () => Promise.all([loadBoard(), loadRates(), loadLists()]);
    useLiveReload(() => Promise.all([loadBoard(), loadLists()]), { wait: 300 });
    onMounted(loadAll);

    const offFeed = onOrderEvent((event, meta) => {
      const entry = { ...event, replayed: meta.replayed, key: `${event.seq}-${event.type}` };
      feed.value = [entry, ...feed.value].slice(0, FEED_SIZE);
    });
    onBeforeUnmount(offFeed);

    const counters = computed(() =>
      COUNTERS.map(([key, type, target]) => ({
        key, type, target, value: board.value ? board.value.counters[key] : null,
      })),
    );
    const go = (target) => target && (tab.value = target);

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

    function openReview(row, decision) {
      Object.assign(review, { open: true, row, decision, note: "", saving: false });
    }
    async function submitReview() {
      if (review.decision === "overrule" && !review.note.trim()) {
        ElMessage.warning(t("board.overruleNeedsNote"));
        return;
      }
      review.saving = true;
      try {
        await api.post(`/api/v1/returns/${review.row.id}/review`, { decision: review.decision, note: review.note });
        ElMessage.success(t("board.decidedOk"));
        review.open = false;
        await Promise.all([loadBoard(), loadLists()]);
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        review.saving = false;
      }
    }

    async function decideTime(row, decision) {
      try {
        await api.post(`/api/v1/time-requests/${row.id}/decision`, { decision, note: "" });
        ElMessage.success(t("board.decidedOk"));
        await Promise.all([loadBoard(), loadLists()]);
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }

    async function openCoordination(order) {
      Object.assign(coord, {
        open: true, order, candidates: [], lead: null, assisting: [], due_at: null, note: "", saving: false,
      });
      try {
        const ranking = await api.get(`/api/v1/orders/${order.id}/candidates`);
        coord.candidates = ranking.leads;
        coord.lead = ranking.leads[0]?.enterprise_id ?? null;
        coord.assisting = ranking.assisting.map((c) => c.enterprise_id);
      } catch (e) {
        ElMessage.error(errorText(e));
      }
    }
    async function submitCoordination() {
      coord.saving = true;
      try {
        await api.post(`/api/v1/orders/${coord.order.id}/coordinate`, {
          lead: coord.lead,
          assisting: coord.assisting.filter((id) => id !== coord.lead),
          due_at: coord.due_at ? new Date(coord.due_at).toISOString() : null,
          note: coord.note,
        });
        ElMessage.success(t("board.decidedOk"));
        coord.open = false;
        await Promise.all([loadBoard(), loadLists()]);
      } catch (e) {
        ElMessage.error(errorText(e));
      } finally {
        coord.saving = false;
      }
    }
    const candidateReason = (id) => coord.candidates.find((c) => c.enterprise_id === id)?.reason || "";


    return {
      t, board, rates, days, rollUp, tab, lists, feed, counters, go, unitRows, barOption, trendOption,
      hasRates, hasTrend, trendMetric, appealCount, RATES, TREND_METRICS,
      review, openReview, submitReview, decideTime, coord, openCoordination, submitCoordination,
      candidateReason, refs, nameOf, fmtTime, eventLabel, actorLabel, loadRates,
    };
  },
  template: `
  <div class="board-page">
    <div class="page-head">
      <h2>{{ t('board.title') }}</h2>
      <span class="muted small" v-if="board">{{ $fmtTime(board.at, true) }}</span>
    </div>
    <div class="counter-grid" data-test="counters">
      <button v-for="c in counters" :key="c.key" class="counter" :class="'counter-' + c.type"
              :data-counter="c.key" @click="go(c.target)">
        <span class="counter-value" data-test="counter-value">{{ c.value === null ? '…' : c.value }}</span>
        <span class="counter-label">{{ t('board.counters.' + c.key) }}</span>
        <span v-if="c.key === 'due_soon' && board" class="counter-hint">{{ t('board.dueSoonHint', { h: board.due_soon_hours }) }}</span>
      </button>
    </div>

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
          <el-table-column :label="t('board.responseRate')" width="84" align="right">
            <template #default="{ row }"><span class="rate">{{ row.shown.response_rate === null ? '—' : row.shown.response_rate + '%' }}</span>
              <div class="muted tiny">{{ row.signed_on_time }}/{{ row.dispatched }}</div></template>
          </el-table-column>
          <el-table-column :label="t('board.resolutionRate')" width="84" align="right">
            <template #default="{ row }"><span class="rate">{{ row.shown.resolution_rate === null ? '—' : row.shown.resolution_rate + '%' }}</span>
              <div class="muted tiny">{{ row.solved }}/{{ row.answered }}</div></template>
          </el-table-column>
          <el-table-column :label="t('board.satisfactionRate')" width="84" align="right">
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
    </div>

    <el-card shadow="never" class="panel">
      <el-tabs v-model="tab" data-test="board-tabs">
        <el-tab-pane name="returns">
          <template #label>{{ t('board.tabs.returns') }} <span v-if="lists.returns.length" class="tab-count tab-count-warning">{{ lists.returns.length }}</span></template>
          <el-table :data="lists.returns" size="small" :empty-text="t('board.empty')" data-test="returns">
            <el-table-column :label="t('unit.number')" width="190">
              <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></template>
            </el-table-column>
            <el-table-column :label="t('board.returnedBy')" prop="enterprise_name" min-width="140" />
            <el-table-column :label="t('board.reason')" min-width="240">
              <template #default="{ row }"><el-tag disable-transitions size="small" type="danger" effect="plain">{{ t('returnReason.' + row.reason_code) }}</el-tag>
                <span class="reason-text">{{ row.reason_text }}</span></template>
            </el-table-column>
            <el-table-column :label="t('board.bounces')" prop="bounce_count" width="80" align="center" />
            <el-table-column :label="t('board.returnedAt')" width="120">
              <template #default="{ row }">{{ $fmtTime(row.created_at) }}</template>
            </el-table-column>
            <el-table-column :label="t('app.actions')" width="300">
              <template #default="{ row }">
                <div class="row-actions">
                  <el-button size="small" type="primary" @click="openReview(row, 'uphold')">{{ t('board.uphold') }}</el-button>
                  <el-button size="small" type="danger" plain @click="openReview(row, 'overrule')">{{ t('board.overrule') }}</el-button>
                </div>
              </template>
            </el-table-column>
          </el-table>
        </el-tab-pane>
        <el-tab-pane name="timeRequests">
          <template #label>{{ t('board.tabs.timeRequests') }} <span v-if="lists.timeRequests.length" class="tab-count tab-count-warning">{{ lists.timeRequests.length }}</span></template>
          <el-table :data="lists.timeRequests" size="small" :empty-text="t('board.empty')">
            <el-table-column :label="t('unit.number')" width="190">
              <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></template>
            </el-table-column>
            <el-table-column :label="t('board.unit')" prop="enterprise_name" min-width="140" />
            <el-table-column :label="t('board.reason')" min-width="220">
              <template #default="{ row }"><el-tag disable-transitions size="small" effect="plain">{{ t('unit.extensionKinds.' + row.kind) }}</el-tag>
                <span class="reason-text">{{ row.reason }}</span></template>
            </el-table-column>
            <el-table-column :label="t('board.currentDue')" width="120"><template #default="{ row }">{{ $fmtTime(row.resolution_due_at) }}</template></el-table-column>
            <el-table-column :label="t('board.requestedDue')" width="120"><template #default="{ row }">{{ $fmtTime(row.requested_due_at) }}</template></el-table-column>
            <el-table-column :label="t('app.actions')" width="180">
              <template #default="{ row }">
                <el-button size="small" type="primary" @click="decideTime(row, 'approve')">{{ t('board.approve') }}</el-button>
                <el-button size="small" @click="decideTime(row, 'reject')">{{ t('board.reject') }}</el-button>
              </template>
            </el-table-column>
          </el-table>
        </el-tab-pane>
        <el-tab-pane name="overdue">
          <template #label>{{ t('board.tabs.overdue') }} <span v-if="lists.overdue.length" class="tab-count tab-count-danger">{{ lists.overdue.length }}</span></template>
          <el-table :data="lists.overdue" size="small" :empty-text="t('board.empty')">
            <el-table-column :label="t('unit.number')" width="190">
              <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.id">{{ row.number }}</a></template>
            </el-table-column>
            <el-table-column :label="t('unit.item')" min-width="150"><template #default="{ row }">{{ $itemName(row.service_item_code) }}</template></el-table-column>
            <el-table-column :label="t('board.unit')" min-width="140"><template #default="{ row }">{{ row.lead_enterprise_id ? $unitName(row.lead_enterprise_id) : '—' }}</template></el-table-column>
            <el-table-column :label="t('unit.state')" width="110"><template #default="{ row }"><StatusTag :status="row.status" /></template></el-table-column>
            <el-table-column :label="t('unit.resolutionDue')" width="160"><template #default="{ row }"><Countdown :due="row.resolution_due_at" :start="row.created_at" /></template></el-table-column>
          </el-table>
        </el-tab-pane>
        <el-tab-pane name="coordination">
          <template #label>{{ t('board.tabs.coordination') }} <span v-if="lists.coordination.length" class="tab-count tab-count-danger">{{ lists.coordination.length }}</span></template>
          <el-table :data="lists.coordination" size="small" :empty-text="t('board.empty')">
            <el-table-column :label="t('unit.number')" width="190">
              <template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.id">{{ row.number }}</a></template>
            </el-table-column>
            <el-table-column :label="t('unit.item')" min-width="140"><template #default="{ row }">{{ $itemName(row.service_item_code) }}</template></el-table-column>
            <el-table-column :label="t('unit.description')" min-width="240"><template #default="{ row }"><div class="clamp-2">{{ row.description }}</div></template></el-table-column>
            <el-table-column :label="t('board.bounces')" prop="bounce_count" width="80" align="center" />
            <el-table-column :label="t('app.actions')" width="150">
              <template #default="{ row }"><el-button size="small" type="primary" @click="openCoordination(row)">{{ t('board.coordinate') }}</el-button></template>
            </el-table-column>
          </el-table>
        </el-tab-pane>
        <el-tab-pane name="campaigns" lazy>
          <template #label>{{ t('board.tabs.campaigns') }}</template>
          <CampaignsPanel />
        </el-tab-pane>
        <el-tab-pane name="appeals">
          <template #label>{{ t('board.tabs.appeals') }} <span v-if="appealCount" class="tab-count tab-count-warning">{{ appealCount }}</span></template>
          <AppealsPanel @count="(n) => (appealCount = n)" />
        </el-tab-pane>
        <el-tab-pane :label="t('board.tabs.notices')" name="notices">
          <el-table :data="lists.notices" size="small" :empty-text="t('board.empty')">
            <el-table-column :label="t('board.level')" width="110"><template #default="{ row }">
              <el-tag disable-transitions size="small" :type="row.level === 'yellow' || row.level === 'reminder' ? 'warning' : 'danger'">{{ t('level.' + row.level) }}</el-tag></template></el-table-column>
            <el-table-column :label="t('unit.number')" width="190"><template #default="{ row }"><a class="mono link" :href="'#/orders/' + row.order_id">{{ row.number }}</a></template></el-table-column>
            <el-table-column :label="t('board.unit')" prop="enterprise_name" min-width="140" />
            <el-table-column :label="t('board.message')" prop="message" min-width="240" />
            <el-table-column :label="t('board.at')" width="120"><template #default="{ row }">{{ $fmtTime(row.created_at) }}</template></el-table-column>
          </el-table>
        </el-tab-pane>
        <el-tab-pane :label="t('board.tabs.agents')" name="agents">
          <el-table :data="lists.agents" size="small" :empty-text="t('board.empty')">
            <el-table-column :label="t('board.agentName')" prop="display_name" min-width="140" />
            <el-table-column :label="t('agent.hotline')" prop="hotline_code" width="100" />
            <el-table-column :label="t('unit.state')" width="130"><template #default="{ row }">
              <el-tag disable-transitions size="small" :type="{ available: 'success', busy: 'danger', after_call: 'warning' }[row.status] || 'info'">{{ t('agentStatus.' + row.status) }}</el-tag></template></el-table-column>
            <el-table-column :label="t('board.since')" width="140"><template #default="{ row }">{{ $fmtTime(row.since) }}</template></el-table-column>
          </el-table>
        </el-tab-pane>
        <el-tab-pane :label="t('board.tabs.feed')" name="feed">
          <div v-if="!feed.length" class="empty-line">{{ t('board.feedEmpty') }}</div>
          <ul v-else class="feed" data-test="feed">
            <li v-for="e in feed" :key="e.key" :data-seq="e.seq" :data-type="e.type" :data-replayed="e.replayed ? 'true' : 'false'">
              <span class="muted small">{{ $fmtTime(e.at || e.created_at) }}</span>
              <el-tag disable-transitions size="small" effect="plain">{{ eventLabel(e.type) }}</el-tag>
              <a v-if="e.order_id" class="mono link" :href="'#/orders/' + e.order_id">{{ e.number }}</a>
              <span v-if="e.actor" class="muted small">{{ actorLabel(e.actor) }}</span>
              <StatusTag v-if="e.status" :status="e.status" />
            </li>
          </ul>
        </el-tab-pane>
      </el-tabs>
    </el-card>

    <el-dialog v-model="review.open" width="520px"
               :title="(review.decision === 'uphold' ? t('board.uphold') : t('board.overrule')) + ' · ' + (review.row?.number || '')">
      <template v-if="review.row">
        <p><el-tag disable-transitions size="small" type="danger" effect="plain">{{ t('returnReason.' + review.row.reason_code) }}</el-tag>
           <span class="reason-text">{{ review.row.reason_text }}</span></p>
        <el-input v-model="review.note" type="textarea" :rows="3" :placeholder="t('board.reviewNote')" maxlength="2000" />
      </template>
      <template #footer>
        <el-button @click="review.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="review.saving" @click="submitReview">{{ t('app.submit') }}</el-button>
      </template>
    </el-dialog>

    <el-dialog v-model="coord.open" width="620px" :title="t('board.coordinateTitle', { number: coord.order?.number || '' })">
      <el-form label-position="top">
        <el-form-item :label="t('board.lead')" required>
          <el-select v-model="coord.lead" filterable class="full">
            <el-option v-for="e in refs.enterprises" :key="e.id" :value="e.id" :label="nameOf(e)">
              <span class="opt-main">{{ nameOf(e) }}</span><span class="opt-side">{{ candidateReason(e.id) }}</span>
            </el-option>
          </el-select>
        </el-form-item>
        <el-form-item :label="t('board.assisting')">
          <el-select v-model="coord.assisting" multiple filterable class="full">
            <el-option v-for="e in refs.enterprises" :key="e.id" :value="e.id" :label="nameOf(e)" :disabled="e.id === coord.lead" />
          </el-select>
        </el-form-item>
        <el-form-item :label="t('board.coordinationDue')" required>
          <el-date-picker v-model="coord.due_at" type="datetime" class="full" />
        </el-form-item>
        <el-form-item :label="t('board.coordinationNote')" required>
          <el-input v-model="coord.note" type="textarea" :rows="3" maxlength="2000" />
        </el-form-item>
      </el-form>
      <template #footer>
        <el-button @click="coord.open = false">{{ t('app.cancel') }}</el-button>
        <el-button type="primary" :loading="coord.saving" @click="submitCoordination">{{ t('app.submit') }}</el-button>
      </template>
    </el-dialog>
  </div>`,
};
