// The supervisors' SLA board: live counters, the callbacks' figures per unit (response,
// resolution, satisfaction, on-time rates and the 三率 score) with trends, and the work of
// the centre — returns to review, extension requests, overdue orders, coordination (lead
// and assisting units), hard cases (办不成事) apart with their figures, callback campaigns, rating appeals, ladder notices, agents'
// status, a live feed. Every order number drills down to the order page. Each part is a
// component under board/ (the 12345 platforms' figures: board/exchange.js); this screen loads the counters and the lists, reloads them on
// live events and after a decision, and counts the lists on their tabs.

import { onBeforeUnmount, onMounted, reactive, ref } from "vue";
import { useI18n } from "vue-i18n";
import { api } from "../api.js";
import { onAgentStatus } from "../live.js";
import AgentStates from "./board/agents.js";
import Coordination from "./board/coordination.js";
import Counters from "./board/counters.js";
import ExchangeFigures from "./board/exchange.js";
import LiveFeed from "./board/feed.js";
import UnitFigures from "./board/figures.js";
import HardCases from "./board/hard_cases.js";
import Notices from "./board/notices.js";
import Overdue from "./board/overdue.js";
import Returns from "./board/returns.js";
import TimeRequests from "./board/time_requests.js";
import { AppealsPanel, CampaignsPanel } from "./callbacks_board.js";
import { useLiveReload } from "./common.js";
import { TIME_ZONE } from "../vocab.js";

// A hard case still has work to do in these statuses (lifecycle.OPEN).
const OPEN_STATUSES = ["registered", "dispatching", "dispatched", "returned", "escalated", "in_progress", "reopened"];

// This month so far, in local days: the hard cases' figures.
function thisMonth() {
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: TIME_ZONE }).format(new Date());
  return { start: `${today.slice(0, 8)}01`, end: today };
}

export default {
  components: {
    AgentStates, AppealsPanel, CampaignsPanel, Coordination, Counters, ExchangeFigures, HardCases, LiveFeed, Notices, Overdue,
    Returns, TimeRequests, UnitFigures,
  },
  setup() {
    const { t } = useI18n();
    const board = ref(null);
    const appealCount = ref(0);
    const tab = ref("returns");
    const lists = reactive({
      returns: [],
      timeRequests: [],
      overdue: [],
      coordination: [],
      hardCases: [],
      hardCaseFigures: [],
      notices: [],
      agents: [],
      exchange: null,
    });

    async function loadBoard() {
      board.value = await api.get("/api/v1/board");
    }
    async function loadLists() {
      const [returns, timeRequests, overdue, coordination, hardCases, hardCaseFigures, notices, agents, exchange] = await Promise.all([
        api.get("/api/v1/returns"),
        api.get("/api/v1/time-requests"),
        api.get("/api/v1/orders", { overdue: true, sort: "due", limit: 50 }),
        api.get("/api/v1/orders", { status: "escalated", hard_case: false, limit: 50 }),
        api.get("/api/v1/orders", { status: OPEN_STATUSES, hard_case: true, sort: "due", limit: 50 }),
        api.get("/api/v1/figures/hard-cases", thisMonth()),
        api.get("/api/v1/supervision/notices", { limit: 50 }),
        api.get("/api/v1/agents"),
        api.get("/api/v1/exchange/figures"),
      ]);
      Object.assign(lists, {
        returns: returns.items,
        timeRequests: timeRequests.items,
        overdue: overdue.items,
        coordination: coordination.items,
        hardCases: hardCases.items,
        hardCaseFigures: hardCaseFigures.items,
        notices: notices.items,
        agents: agents.items,
        exchange,
      });
    }
    const reload = () => Promise.all([loadBoard(), loadLists()]);
    useLiveReload(reload, { wait: 300 });
    onMounted(reload);
    // An agent's status changes in place; one the list does not have yet reloads it.
    const offAgentStatus = onAgentStatus((event) => {
      const row = lists.agents.find((a) => a.id === event.user_id);
      if (row) Object.assign(row, { status: event.status, since: event.since });
      else api.get("/api/v1/agents").then((agents) => (lists.agents = agents.items));
    });
    onBeforeUnmount(offAgentStatus);

    return { t, board, tab, lists, appealCount, reload };
  },
  // The panes are not lazy (but for the campaigns): the feed listens, and the appeals are
  // counted, from the moment the board opens.
  template: `
  <div class="board-page">
    <div class="page-head">
      <h2>{{ t('board.title') }}</h2>
      <span class="muted small" v-if="board">{{ $fmtTime(board.at, true) }}</span>
    </div>
    <Counters :board="board" @go="(target) => (tab = target)" />

    <!-- The work queues first: at 1440×900 they are on screen without scrolling past the
         charts, which are for reading, not acting. -->
    <el-card shadow="never" class="panel">
      <el-tabs v-model="tab" data-test="board-tabs">
        <el-tab-pane name="returns">
          <template #label>{{ t('board.tabs.returns') }} <span v-if="lists.returns.length" class="tab-count tab-count-warning">{{ lists.returns.length }}</span></template>
          <Returns :rows="lists.returns" @decided="reload" />
        </el-tab-pane>
        <el-tab-pane name="timeRequests">
          <template #label>{{ t('board.tabs.timeRequests') }} <span v-if="lists.timeRequests.length" class="tab-count tab-count-warning">{{ lists.timeRequests.length }}</span></template>
          <TimeRequests :rows="lists.timeRequests" @decided="reload" />
        </el-tab-pane>
        <el-tab-pane name="overdue">
          <template #label>{{ t('board.tabs.overdue') }} <span v-if="lists.overdue.length" class="tab-count tab-count-danger">{{ lists.overdue.length }}</span></template>
          <Overdue :rows="lists.overdue" />
        </el-tab-pane>
        <el-tab-pane name="coordination">
          <template #label>{{ t('board.tabs.coordination') }} <span v-if="lists.coordination.length" class="tab-count tab-count-danger">{{ lists.coordination.length }}</span></template>
          <Coordination :rows="lists.coordination" @decided="reload" />
        </el-tab-pane>
        <el-tab-pane name="hardCases">
          <template #label>{{ t('hardCase.tab') }} <span v-if="lists.hardCases.length" class="tab-count tab-count-danger" data-test="hard-case-count">{{ lists.hardCases.length }}</span></template>
          <HardCases :rows="lists.hardCases" :figures="lists.hardCaseFigures" @decided="reload" />
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
          <Notices :rows="lists.notices" />
        </el-tab-pane>
        <el-tab-pane :label="t('board.tabs.agents')" name="agents">
          <AgentStates :rows="lists.agents" />
        </el-tab-pane>
        <el-tab-pane :label="t('board.tabs.feed')" name="feed">
          <LiveFeed />
        </el-tab-pane>
      </el-tabs>
    </el-card>
    <ExchangeFigures :figures="lists.exchange" @retried="reload" />
    <UnitFigures />
  </div>`,
};
